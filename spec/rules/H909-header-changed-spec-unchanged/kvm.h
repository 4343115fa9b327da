/* The header now: a patch added a bit to the vendor hypercall bitmap. */
#define KVM_REG_ARM_VENDOR_HYP_BIT_FUNC_FEAT	0
#define KVM_REG_ARM_VENDOR_HYP_BIT_PTP		1
