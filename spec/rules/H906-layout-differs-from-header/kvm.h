/* A header in the shape of include/uapi/linux/kvm.h, for this example. */
struct kvm_one_reg {
	unsigned long long id;
	unsigned long long addr;
};
