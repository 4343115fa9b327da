/* The header the baseline was reviewed against, in the shape of arch/arm64/include/uapi/asm/kvm.h. */
#define KVM_REG_ARM_VENDOR_HYP_BIT_FUNC_FEAT	0
