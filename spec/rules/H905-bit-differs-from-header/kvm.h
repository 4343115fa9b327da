/* A header in the shape of arch/arm64/include/uapi/asm/kvm.h, for this example. */
#define KVM_REG_ARM_VENDOR_HYP_BIT_FUNC_FEAT	0
#define KVM_REG_ARM_VENDOR_HYP_BIT_PTP		1
