/* A header in the shape of include/uapi/linux/kvm.h and asm-generic/ioctl.h, for this example. */
#define _IOC(dir, type, nr, size)	(((dir) << 30) | ((type) << 8) | (nr) | ((size) << 16))
#define _IOR(type, nr, size)		_IOC(2U, (type), (nr), sizeof(size))
#define KVMIO 0xAE
struct kvm_irqchip {
	unsigned int chip_id;
	unsigned int pad;
	unsigned long long chip[64];
};
#define KVM_SET_IRQCHIP			_IOR(KVMIO, 0x63, struct kvm_irqchip)
