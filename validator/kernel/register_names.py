"""Names of the registers KVM lists, for the drafts `probe` writes: x86 MSRs
(KVM_GET_MSR_INDEX_LIST) by name, arm64 ONE_REG ids (KVM_GET_REG_LIST) by what they encode.

Sources (Linux, torvalds/linux): arch/x86/include/uapi/asm/kvm_para.h (the KVM paravirtual
MSRs, also installed as <asm/kvm_para.h>) and arch/x86/include/asm/msr-index.h (the rest).
An index not named here is written `MSR_0x<index>`.
"""

from __future__ import annotations

MSR_NAMES: dict[int, str] = {
    0x10: "MSR_IA32_TSC",
    0x11: "MSR_KVM_WALL_CLOCK",
    0x12: "MSR_KVM_SYSTEM_TIME",
    0x34: "MSR_SMI_COUNT",
    0x3B: "MSR_IA32_TSC_ADJUST",
    0x48: "MSR_IA32_SPEC_CTRL",
    0x8B: "MSR_IA32_UCODE_REV",
    0xCE: "MSR_PLATFORM_INFO",
    0x10A: "MSR_IA32_ARCH_CAPABILITIES",
    0x140: "MSR_MISC_FEATURES_ENABLES",
    0x174: "MSR_IA32_SYSENTER_CS",
    0x175: "MSR_IA32_SYSENTER_ESP",
    0x176: "MSR_IA32_SYSENTER_EIP",
    0x17A: "MSR_IA32_MCG_STATUS",
    0x17B: "MSR_IA32_MCG_CTL",
    0x1A0: "MSR_IA32_MISC_ENABLE",
    0x1D9: "MSR_IA32_DEBUGCTLMSR",
    0x1DB: "MSR_IA32_LASTBRANCHFROMIP",
    0x1DC: "MSR_IA32_LASTBRANCHTOIP",
    0x1DD: "MSR_IA32_LASTINTFROMIP",
    0x1DE: "MSR_IA32_LASTINTTOIP",
    0x1FC: "MSR_IA32_POWER_CTL",
    0x277: "MSR_IA32_CR_PAT",
    0x345: "MSR_IA32_PERF_CAPABILITIES",
    0x6E0: "MSR_IA32_TSC_DEADLINE",
    0xC0000081: "MSR_STAR",
    0xC0000082: "MSR_LSTAR",
    0xC0000083: "MSR_CSTAR",
    0xC0000084: "MSR_SYSCALL_MASK",
    0xC0000102: "MSR_KERNEL_GS_BASE",
    0xC0000103: "MSR_TSC_AUX",
    0xC0010015: "MSR_K7_HWCR",
    0xC0010117: "MSR_VM_HSAVE_PA",
    0xC001011F: "MSR_AMD64_VIRT_SPEC_CTRL",
    0x4B564D00: "MSR_KVM_WALL_CLOCK_NEW",
    0x4B564D01: "MSR_KVM_SYSTEM_TIME_NEW",
    0x4B564D02: "MSR_KVM_ASYNC_PF_EN",
    0x4B564D03: "MSR_KVM_STEAL_TIME",
    0x4B564D04: "MSR_KVM_PV_EOI_EN",
    0x4B564D05: "MSR_KVM_POLL_CONTROL",
    0x4B564D06: "MSR_KVM_ASYNC_PF_INT",
    0x4B564D07: "MSR_KVM_ASYNC_PF_ACK",
    0x4B564D08: "MSR_KVM_MIGRATION_CONTROL",
}


def msr_name(index: int) -> str:
    return MSR_NAMES.get(index, f"MSR_0x{index:x}")


# arm64: arch/arm64/include/uapi/asm/kvm.h, the firmware pseudo-registers by name.
ARM64_FIRMWARE = {
    0x0014_0000: "KVM_REG_ARM_PSCI_VERSION",
    0x0014_0001: "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1",
    0x0014_0002: "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2",
    0x0014_0003: "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3",
    0x0016_0000: "KVM_REG_ARM_STD_BMAP",
    0x0016_0001: "KVM_REG_ARM_STD_HYP_BMAP",
    0x0016_0002: "KVM_REG_ARM_VENDOR_HYP_BMAP",
}


def arm64_name(register_id: int) -> str:
    """A name for an arm64 ONE_REG id: a firmware register's own, a system register's
    encoding (`SYSREG_3_0_0_4_0`), a core register's offset, else the id."""
    low = register_id & 0xFFFF_FFFF
    coprocessor = low >> 16 & 0xFFF
    if low in ARM64_FIRMWARE:
        return ARM64_FIRMWARE[low]
    if coprocessor == 0x13:  # KVM_REG_ARM64_SYSREG
        fields = (low >> 14 & 3, low >> 11 & 7, low >> 7 & 15, low >> 3 & 15, low & 7)
        return "SYSREG_" + "_".join(map(str, fields))
    if coprocessor == 0x10:  # KVM_REG_ARM_CORE: the offset in struct kvm_regs, in 32-bit words
        return f"CORE_{low & 0xFFFF:04x}"
    return f"REG_{register_id:016x}"
