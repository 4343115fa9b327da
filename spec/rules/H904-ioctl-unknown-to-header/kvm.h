/* A header in the shape of include/uapi/linux/kvm.h (and linux/ioctl.h), for this example. */
#define _IOC(dir, type, nr, size)	(((dir) << 30) | ((type) << 8) | (nr) | ((size) << 16))
#define _IOW(type, nr, size)		_IOC(1U, (type), (nr), sizeof(size))
#define KVMIO 0xAE
struct kvm_one_reg {
	unsigned long long id;
	unsigned long long addr;
};
#define KVM_GET_ONE_REG			_IOW(KVMIO, 0xab, struct kvm_one_reg)
#define KVM_SET_ONE_REG			_IOW(KVMIO, 0xac, struct kvm_one_reg)
