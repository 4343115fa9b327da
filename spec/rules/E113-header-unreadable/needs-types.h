/* A header that needs another the spec root does not hold. */
#include <linux/types.h>
#define KVM_REG_ARM_PSCI_VERSION	0x6030000000140000ULL
