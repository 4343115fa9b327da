// SPDX-License-Identifier: GPL-2.0-only
/*
 * A register list in the form of the kernel's get-reg-list selftests
 * (tools/testing/selftests/kvm/aarch64/get-reg-list.c): arrays of macro expressions over
 * the UAPI headers, the file's own #defines, comments beside elements.
 */
#include <stdio.h>
#include "kvm_util.h"

#define REG_MASK (KVM_REG_ARCH_MASK | KVM_REG_SIZE_MASK | KVM_REG_ARM_COPROC_MASK)
#define CORE_REG(name, size) \
	(KVM_REG_ARM64 | KVM_REG_SIZE_##size | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(name))

static __u64 base_regs[] = {
	KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(regs.regs[0]),
	KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(regs.pc),
	CORE_REG(fp_regs.fpsr, U32),
	KVM_REG_ARM_FW_REG(0),		/* KVM_REG_ARM_PSCI_VERSION */
	KVM_REG_ARM_FW_REG(1),
	KVM_REG_ARM_FW_FEAT_BMAP_REG(0),
	ARM64_SYS_REG(3, 0, 0, 4, 0),	/* ID_AA64PFR0_EL1 */
	ARM64_SYS_REG(3, 3, 14, 3, 1),	/* CNTV_CTL_EL0 */
	KVM_REG_ARM_TIMER_CNT,
};

static __u64 sve_regs[] = {
	KVM_REG_ARM64_SVE_VLS,
	KVM_REG_ARM64_SVE_ZREG(0, 0),
	KVM_REG_ARM64_SVE_PREG(15, 0),
	KVM_REG_ARM64_SVE_FFR(0),
};

static struct vcpu_reg_sublist sublists[] = {
	{ "base", .regs = base_regs, .regs_n = ARRAY_SIZE(base_regs), },
};
