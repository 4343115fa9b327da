/* A header in the shape of include/uapi/linux/kvm.h, for this example. */
#define KVM_CAP_ARM_PSCI_0_2		102
#define KVM_CAP_COUNTER_OFFSET		227
