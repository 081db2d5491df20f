//go:build amd64 && !purego

#include "textflag.h"

// Constants of sigmoidsAVX2 (float32 bit patterns; the same as sigmoidsGo's).
DATA sigc<>+0(SB)/4, $0x42ae0000  // 87
DATA sigc<>+4(SB)/4, $0xc2ae0000  // -87
DATA sigc<>+8(SB)/4, $0x3fb8aa3b  // log2(e)
DATA sigc<>+12(SB)/4, $0x3f000000 // 0.5
DATA sigc<>+16(SB)/4, $0x3f318000 // c1 (ln 2, high part)
DATA sigc<>+20(SB)/4, $0xb95e8083 // c2 (ln 2, low part)
DATA sigc<>+24(SB)/4, $0x3f800000 // 1
DATA sigc<>+28(SB)/4, $0x0000007f // 127 (int32)
DATA sigc<>+32(SB)/4, $0x39506967 // polynomial, highest degree first
DATA sigc<>+36(SB)/4, $0x3ab743ce
DATA sigc<>+40(SB)/4, $0x3c088908
DATA sigc<>+44(SB)/4, $0x3d2aa9c1
DATA sigc<>+48(SB)/4, $0x3e2aaaaa
DATA sigc<>+52(SB)/4, $0x3f000000
DATA sigc<>+56(SB)/4, $0x80000000 // sign bit
GLOBL sigc<>(SB), RODATA|NOPTR, $60

// func sigmoidsAVX2(x *float32, n int, scale *[4]float32)
//
// x[i] = 1/(1+e^(-scale[i%4]·x[i])) for n values, n a multiple of 8: the
// steps of sigmoidsGo (Cephes' expf) on 8 values at a time, with fused
// multiply-adds. min/max keep NaN (it is their second source).
TEXT ·sigmoidsAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ scale+16(FP), SI
	SHRQ $3, CX
	JZ   done
	VBROADCASTF128 (SI), Y15          // scale, twice
	VBROADCASTSS sigc<>+56(SB), Y6
	VXORPS Y6, Y15, Y15               // -scale
	VBROADCASTSS sigc<>+0(SB), Y14    // 87
	VBROADCASTSS sigc<>+4(SB), Y13    // -87
	VBROADCASTSS sigc<>+8(SB), Y12    // log2(e)
	VBROADCASTSS sigc<>+12(SB), Y11   // 0.5
	VBROADCASTSS sigc<>+16(SB), Y10   // c1
	VBROADCASTSS sigc<>+20(SB), Y9    // c2
	VBROADCASTSS sigc<>+24(SB), Y8    // 1
	VPBROADCASTD sigc<>+28(SB), Y7    // 127

loop:
	VMOVUPS (DI), Y0
	VMULPS Y15, Y0, Y0                // v = -scale·x
	VMINPS Y0, Y14, Y0                // min(87, v)
	VMAXPS Y0, Y13, Y0                // max(-87, v)
	VMULPS Y12, Y0, Y1
	VADDPS Y11, Y1, Y1
	VROUNDPS $1, Y1, Y1               // n = floor(v·log2e + 0.5)
	VMOVAPS Y0, Y2
	VFNMADD231PS Y10, Y1, Y2          // r = v - n·c1
	VFNMADD231PS Y9, Y1, Y2           // r -= n·c2
	VMULPS Y2, Y2, Y3                 // z = r·r
	VBROADCASTSS sigc<>+32(SB), Y4
	VBROADCASTSS sigc<>+36(SB), Y6
	VFMADD213PS Y6, Y2, Y4
	VBROADCASTSS sigc<>+40(SB), Y6
	VFMADD213PS Y6, Y2, Y4
	VBROADCASTSS sigc<>+44(SB), Y6
	VFMADD213PS Y6, Y2, Y4
	VBROADCASTSS sigc<>+48(SB), Y6
	VFMADD213PS Y6, Y2, Y4
	VBROADCASTSS sigc<>+52(SB), Y6
	VFMADD213PS Y6, Y2, Y4
	VFMADD213PS Y2, Y3, Y4            // p·z + r
	VADDPS Y8, Y4, Y4                 // e^r
	VCVTTPS2DQ Y1, Y5
	VPADDD Y7, Y5, Y5
	VPSLLD $23, Y5, Y5                // 2^n
	VMULPS Y5, Y4, Y4                 // e^v
	VADDPS Y8, Y4, Y4
	VDIVPS Y4, Y8, Y0                 // 1 / (1 + e^v)
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	DECQ CX
	JNZ  loop
	VZEROUPPER

done:
	RET
