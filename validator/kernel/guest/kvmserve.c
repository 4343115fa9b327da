/*
 * kvmserve: the /init of an emulated arm64 guest, serving KVM ioctls to the host one line
 * at a time over the serial console (validator/kernel/qemu.py is the other end).
 *
 * It mounts devtmpfs, opens /dev/kvm and answers commands until `quit`, then powers off.
 * It creates only its own VMs and vCPUs. Every reply line starts with "@@ ", so kernel
 * messages on the same console are told apart:
 *
 *   vm                      -> @@ ok HANDLE          (a VM with a page of guest code)
 *   vcpu VM                 -> @@ ok HANDLE          (KVM_ARM_VCPU_INIT, PC at the code)
 *   get VCPU ID             -> @@ ok VALUE | @@ err ERRNO
 *   set VCPU ID VALUE       -> @@ ok | @@ err ERRNO
 *   run VCPU                -> @@ ok EXIT_REASON | @@ err ERRNO
 *   cap VM CAPABILITY       -> @@ ok ANSWER          (KVM_CHECK_EXTENSION on the VM fd)
 *   reglist VCPU            -> @@ ok ID ID ...       (KVM_GET_REG_LIST)
 *   vm bare                 -> @@ ok HANDLE          (a VM with no memory: before memslot_create)
 *   ioctl FD HANDLE REQUEST HEX -> @@ ok RESULT | @@ err ERRNO
 *                              (FD: sys, vm or vcpu; the argument points at the HEX bytes)
 *   quit                    -> powers the guest off
 *
 * The first line is `@@ ready API_VERSION RELEASE`. Numbers are hexadecimal without 0x; errnos are numbers (asm-generic, as on the host).
 * The guest code calls PSCI SYSTEM_OFF through HVC, so KVM_RUN returns at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>
#include <linux/kvm.h>

#define MAX_VMS 64
#define MAX_VCPUS 256
#define GUEST_CODE_ADDRESS 0x80000000ULL
#define ONE_REG_MAX_BYTES 256 /* KVM_REG_SIZE_U2048 */
#define MAX_ARGUMENT 4096 /* the largest ioctl argument `ioctl` copies */

static int kvm_fd = -1;
static int vm_fds[MAX_VMS], vm_count;
static int vcpu_fds[MAX_VCPUS], vcpu_count;
static struct kvm_vcpu_init preferred[MAX_VMS];

static void reply(const char *text)
{
	printf("@@ %s\n", text);
	fflush(stdout);
}

static void reply_errno(int number)
{
	printf("@@ err %d\n", number);
	fflush(stdout);
}

static int new_vm(int bare)
{
	/* movz x0, #0x8; movk x0, #0x8400, lsl #16 (PSCI SYSTEM_OFF); hvc #0; b . */
	static const uint32_t code[] = { 0xd2800100, 0xf2b08000, 0xd4000002, 0x14000000 };
	if (vm_count == MAX_VMS)
		return -ENOSPC;
	int vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm < 0)
		return -errno;
	void *memory = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (memory == MAP_FAILED)
		return -errno;
	memcpy(memory, code, sizeof(code));
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = GUEST_CODE_ADDRESS,
		.memory_size = 0x10000,
		.userspace_addr = (uint64_t)(uintptr_t)memory,
	};
	if (!bare && ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	memset(&preferred[vm_count], 0, sizeof(preferred[vm_count]));
	if (ioctl(vm, KVM_ARM_PREFERRED_TARGET, &preferred[vm_count]) < 0)
		return -errno;
	preferred[vm_count].features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	vm_fds[vm_count] = vm;
	return vm_count++;
}

static int set_one_reg(int vcpu, uint64_t id, uint64_t value)
{
	uint8_t buffer[ONE_REG_MAX_BYTES] = { 0 };
	memcpy(buffer, &value, sizeof(value));
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)buffer };
	return ioctl(vcpu, KVM_SET_ONE_REG, &reg) < 0 ? -errno : 0;
}

static int new_vcpu(int vm)
{
	if (vm < 0 || vm >= vm_count || vcpu_count == MAX_VCPUS)
		return -EINVAL;
	static int per_vm[MAX_VMS]; /* the next vCPU id of each VM */
	int vcpu = ioctl(vm_fds[vm], KVM_CREATE_VCPU, per_vm[vm]);
	if (vcpu < 0)
		return -errno;
	per_vm[vm]++;
	if (ioctl(vcpu, KVM_ARM_VCPU_INIT, &preferred[vm]) < 0)
		return -errno;
	uint64_t pc = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
		      (offsetof(struct kvm_regs, regs.pc) / sizeof(uint32_t));
	int rc = set_one_reg(vcpu, pc, GUEST_CODE_ADDRESS);
	if (rc < 0)
		return rc;
	vcpu_fds[vcpu_count] = vcpu;
	return vcpu_count++;
}

static int vcpu_of(const char *word)
{
	long handle = strtol(word, NULL, 16);
	return handle >= 0 && handle < vcpu_count ? vcpu_fds[handle] : -1;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* ioctl FD HANDLE REQUEST HEX: the argument is a copy of the HEX bytes. */
static void serve_ioctl(char **words)
{
	static uint8_t argument[MAX_ARGUMENT];
	long handle = strtol(words[2], NULL, 16);
	int fd = -1;
	if (!strcmp(words[1], "sys"))
		fd = kvm_fd;
	else if (!strcmp(words[1], "vm") && handle >= 0 && handle < vm_count)
		fd = vm_fds[handle];
	else if (!strcmp(words[1], "vcpu") && handle >= 0 && handle < vcpu_count)
		fd = vcpu_fds[handle];
	size_t length = strlen(words[4]);
	if (fd < 0 || length % 2 || length / 2 > sizeof(argument))
		return reply_errno(EBADF);
	memset(argument, 0, sizeof(argument));
	for (size_t i = 0; i < length / 2; i++) {
		int high = hex_digit(words[4][2 * i]), low = hex_digit(words[4][2 * i + 1]);
		if (high < 0 || low < 0)
			return reply_errno(EINVAL);
		argument[i] = (uint8_t)(high << 4 | low);
	}
	int result = ioctl(fd, strtoul(words[3], NULL, 16), argument);
	if (result < 0)
		return reply_errno(errno);
	char text[32];
	snprintf(text, sizeof(text), "ok %x", result);
	reply(text);
}

static void serve(char *line)
{
	char *words[5] = { 0 };
	int count = 0;
	for (char *word = strtok(line, " \r\n"); word && count < 5; word = strtok(NULL, " \r\n"))
		words[count++] = word;
	if (count == 0)
		return;
	char text[64];
	if (!strcmp(words[0], "ioctl") && count == 5)
		return serve_ioctl(words);
	if (!strcmp(words[0], "vm")) {
		int handle = new_vm(count == 2 && !strcmp(words[1], "bare"));
		if (handle < 0)
			return reply_errno(-handle);
		snprintf(text, sizeof(text), "ok %x", handle);
		return reply(text);
	}
	if (!strcmp(words[0], "vcpu") && count == 2) {
		int handle = new_vcpu((int)strtol(words[1], NULL, 16));
		if (handle < 0)
			return reply_errno(-handle);
		snprintf(text, sizeof(text), "ok %x", handle);
		return reply(text);
	}
	if (!strcmp(words[0], "get") && count == 3) {
		int vcpu = vcpu_of(words[1]);
		uint8_t buffer[ONE_REG_MAX_BYTES] = { 0 };
		struct kvm_one_reg reg = { .id = strtoull(words[2], NULL, 16), .addr = (uint64_t)(uintptr_t)buffer };
		if (vcpu < 0 || ioctl(vcpu, KVM_GET_ONE_REG, &reg) < 0)
			return reply_errno(vcpu < 0 ? EBADF : errno);
		uint64_t value;
		memcpy(&value, buffer, sizeof(value));
		snprintf(text, sizeof(text), "ok %llx", (unsigned long long)value);
		return reply(text);
	}
	if (!strcmp(words[0], "set") && count == 4) {
		int vcpu = vcpu_of(words[1]);
		if (vcpu < 0)
			return reply_errno(EBADF);
		int rc = set_one_reg(vcpu, strtoull(words[2], NULL, 16), strtoull(words[3], NULL, 16));
		return rc < 0 ? reply_errno(-rc) : reply("ok");
	}
	if (!strcmp(words[0], "run") && count == 2) {
		int vcpu = vcpu_of(words[1]);
		if (vcpu < 0)
			return reply_errno(EBADF);
		int size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
		struct kvm_run *run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
		if (run == MAP_FAILED)
			return reply_errno(errno);
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			return reply_errno(errno);
		snprintf(text, sizeof(text), "ok %x", run->exit_reason);
		munmap(run, size);
		return reply(text);
	}
	if (!strcmp(words[0], "cap") && count == 3) {
		long vm = strtol(words[1], NULL, 16);
		int fd = vm >= 0 && vm < vm_count ? vm_fds[vm] : kvm_fd;
		int answer = ioctl(fd, KVM_CHECK_EXTENSION, strtol(words[2], NULL, 16));
		snprintf(text, sizeof(text), "ok %x", answer < 0 ? 0 : answer);
		return reply(text);
	}
	if (!strcmp(words[0], "reglist") && count == 2) {
		int vcpu = vcpu_of(words[1]);
		struct kvm_reg_list probe = { .n = 0 };
		if (vcpu < 0)
			return reply_errno(EBADF);
		ioctl(vcpu, KVM_GET_REG_LIST, &probe); /* E2BIG, with the count */
		struct kvm_reg_list *list = calloc(1, sizeof(*list) + probe.n * sizeof(uint64_t));
		list->n = probe.n;
		if (ioctl(vcpu, KVM_GET_REG_LIST, list) < 0)
			return reply_errno(errno);
		printf("@@ ok");
		for (uint64_t i = 0; i < list->n; i++)
			printf(" %llx", (unsigned long long)list->reg[i]);
		printf("\n");
		fflush(stdout);
		free(list);
		return;
	}
	if (!strcmp(words[0], "quit")) {
		reply("bye");
		sync();
		reboot(RB_POWER_OFF);
	}
	reply_errno(EINVAL);
}

int main(void)
{
	mkdir("/dev", 0755);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	/* The host writes commands to the console: no echo, no line editing of our own. */
	struct termios mode;
	if (tcgetattr(0, &mode) == 0) {
		mode.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
		mode.c_iflag &= ~(ICRNL | INLCR | IXON);
		mode.c_oflag &= ~OPOST;
		mode.c_cc[VMIN] = 1;
		mode.c_cc[VTIME] = 0;
		tcsetattr(0, TCSANOW, &mode);
	}
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		printf("@@ fail %d\n", errno);
		fflush(stdout);
		reboot(RB_POWER_OFF);
	}
	struct utsname host;
	uname(&host);
	printf("@@ ready %x %s\n", ioctl(kvm_fd, KVM_GET_API_VERSION, 0), host.release);
	fflush(stdout);
	static char line[2 * MAX_ARGUMENT + 64];
	size_t used = 0;
	for (;;) {
		char c;
		if (read(0, &c, 1) != 1)
			continue;
		if (c == '\n' || c == '\r') {
			line[used] = 0;
			if (used)
				serve(line);
			used = 0;
		} else if (used < sizeof(line) - 1) {
			line[used++] = c;
		}
	}
}
