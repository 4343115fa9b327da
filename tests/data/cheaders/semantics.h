/* Integer constant expressions whose value depends on C's typing rules and the ABI:
 * the header reader must give each exactly the value gcc gives it. */
#ifndef SEMANTICS_H
#define SEMANTICS_H
#include <linux/types.h>

#define NEG_ONE_U        -1U
#define NEG_ONE          -1
#define NEG_ONE_L        -1L
#define NEG_ONE_UL       -1UL
#define NEG_ONE_ULL      -1ULL
#define MIXED_TERNARY    (1 ? -1 : 0U)
#define MIXED_TERNARY_L  (1 ? -1 : 0UL)
#define CAST_U8          ((__u8)0x1ff)
#define CAST_S8          ((__s8)0xff)
#define CAST_U16_NEG     ((__u16)-1)
#define TOP_BIT          (1ULL << 63)
#define TOP_BIT_UL       (1UL << 31)
#define HEX_UNSIGNED     0xffffffff
#define HEX_PROMOTES     (0xffffffff + 1)
#define DEC_PROMOTES     (2147483647 + 1L)
#define DIV_TRUNC        (-7 / 2)
#define MOD_SIGN         (-7 % 3)
#define UDIV             (-7U / 2)
#define SHIFT_SIGNED     (-16 >> 2)
#define COMPARE_MIXED    (-1 < 0U)
#define COMPARE_LONG     (-1L < 0U)
#define LOGICAL          (3 && 0 || !0)
#define NOT_ZERO         (!5)
#define BITNOT_U8        (~(__u8)0)
#define CHAR_CONST       ('A' + '\n')
#define OCTAL            0755
#define SIZE_LONG        sizeof(long)
#define SIZE_PTR         sizeof(void *)
#define SIZE_ULL         sizeof(unsigned long long)
#define ALIGN_ULL        _Alignof(unsigned long long)
#define SIZE_STRUCT      sizeof(struct layout_mix)
#define ALIGN_STRUCT     _Alignof(struct layout_mix)
#define OFFSET_TAIL      offsetof(struct layout_mix, tail)
#define OFFSET_NESTED    __builtin_offsetof(struct layout_mix, inner.b)
#define OFFSET_ARRAY     __builtin_offsetof(struct layout_mix, words[3])
#define SIZE_MINUS       (sizeof(struct layout_mix) - 100)
#define NESTED_MACRO     (SIZE_LONG * 2 + NEG_ONE_U)
#define ENUM_PLUS        (SEM_C + 1)
#define IOC(dir, nr, size) (((dir) << 30) | ((size) << 16) | (0xAE << 8) | (nr))
#define IOCTL_OF_STRUCT  IOC(2U, 0x81, sizeof(struct layout_mix))
#define PASTE(a, b)      a##b
#define PASTED           PASTE(0x, 10)
#define VARIADIC(...)    (__VA_ARGS__ + 0)
#define VARIADIC_SUM     VARIADIC(1 + 2)
#if defined(__x86_64__) || defined(__aarch64__)
#define WORD_BITS 64
#elif defined(__i386__)
#define WORD_BITS 32
#else
#define WORD_BITS 0
#endif
#define NOT_A_NUMBER     "a string"
#define A_TYPE           __u64

enum sem { SEM_A, SEM_B = 5, SEM_C, SEM_D = -2, SEM_E };

struct layout_mix {
	__u8 tag;
	__u64 wide;
	struct {
		__u16 a;
		__u32 b;
	} inner;
	union {
		__u8 bytes[3];
		__u32 word;
	};
	__u32 words[5];
	__aligned_u64 aligned;
	__u8 tail;
};

struct flexible {
	__u32 count;
	__u16 pad;
	__u64 entries[];
};

struct bits {
	__u32 low : 3;
	__u32 mid : 20;
	__u32 high : 12;
	__u8 after;
	__u64 wide_bits : 40;
	__u16 : 0;
	__u8 last;
};

struct packed_one {
	__u8 a;
	__u32 b;
	__u16 c;
} __attribute__((packed));

struct __attribute__((__packed__)) packed_two {
	__u8 a;
	__u64 b;
};

struct aligned_struct {
	__u8 a;
} __attribute__((aligned(32)));

struct aligned_member {
	__u8 a;
	__u8 b __attribute__((aligned(16)));
	__u8 c[4] __attribute__((__aligned__(8)));
};

union mixed_union {
	__u8 byte;
	__u64 quad;
	struct packed_one packed;
};

struct holds_array_of_structs {
	struct packed_one many[3];
	union mixed_union one;
	double real;
	long long ll;
	long l;
	void *pointer;
};

#endif
