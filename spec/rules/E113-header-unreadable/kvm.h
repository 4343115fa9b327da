/* A header in the shape of arch/arm64/include/uapi/asm/kvm.h, for this example. */
#define KVM_REG_ARM_PSCI_VERSION	0x6030000000140000ULL
