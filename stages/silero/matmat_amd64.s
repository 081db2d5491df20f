//go:build amd64 && !purego

#include "textflag.h"

// func blockMatMatAVX2(w, b, x, y *float32, blocks, cols, n, xStride, yStride int)
//
// blockMatVecAVX2 on n vectors: vector j is x[j*xStride : j*xStride+cols],
// its result y[j*yStride : j*yStride+8*blocks]. The loops are turned
// inside out: for each pair of blocks, every vector in turn, so that the
// pair's weights (64*cols bytes) are read from memory once and then from
// L1. Each vector gets exactly blockMatVecAVX2's operations in its order
// (the same four accumulators per block, the same final sums), so that
// every result is bit-identical to blockMatVecAVX2 on that vector alone.
// blocks is even, cols a multiple of 4, n positive; strides in floats.
TEXT ·blockMatMatAVX2(SB), NOSPLIT, $0-72
	MOVQ w+0(FP), SI
	MOVQ b+8(FP), R8
	MOVQ y+24(FP), R13     // the pair's rows of vector 0
	MOVQ blocks+32(FP), R9
	MOVQ cols+40(FP), R10
	MOVQ xStride+56(FP), R14
	SHLQ $2, R14           // bytes from one vector to the next
	MOVQ yStride+64(FP), R15
	SHLQ $2, R15
	MOVQ R10, R12
	SHLQ $5, R12           // bytes per block: cols * 8 floats * 4
	SHRQ $2, R10           // steps of 4 columns
	SHRQ $1, R9            // pairs of blocks
	TESTQ R9, R9
	JZ   done
	TESTQ R10, R10
	JZ   done
	MOVQ n+48(FP), AX
	TESTQ AX, AX
	JLE  done

pair:
	LEAQ (SI)(R12*1), R11  // the second block's weights
	MOVQ x+16(FP), DX      // vector 0
	MOVQ R13, DI
	MOVQ n+48(FP), AX

vector:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ DX, BX
	MOVQ R10, CX

step:
	VBROADCASTSS 0(BX), Y8
	VFMADD231PS  0(SI), Y8, Y0
	VFMADD231PS  0(R11), Y8, Y4
	VBROADCASTSS 4(BX), Y9
	VFMADD231PS  32(SI), Y9, Y1
	VFMADD231PS  32(R11), Y9, Y5
	VBROADCASTSS 8(BX), Y10
	VFMADD231PS  64(SI), Y10, Y2
	VFMADD231PS  64(R11), Y10, Y6
	VBROADCASTSS 12(BX), Y11
	VFMADD231PS  96(SI), Y11, Y3
	VFMADD231PS  96(R11), Y11, Y7
	ADDQ $16, BX
	ADDQ $128, SI
	ADDQ $128, R11
	DECQ CX
	JNZ  step

	VADDPS  Y1, Y0, Y0
	VADDPS  Y3, Y2, Y2
	VADDPS  Y2, Y0, Y0
	VADDPS  (R8), Y0, Y0
	VMOVUPS Y0, (DI)
	VADDPS  Y5, Y4, Y4
	VADDPS  Y7, Y6, Y6
	VADDPS  Y6, Y4, Y4
	VADDPS  32(R8), Y4, Y4
	VMOVUPS Y4, 32(DI)
	SUBQ R12, SI           // back to the pair's first column
	SUBQ R12, R11
	ADDQ R14, DX           // the next vector
	ADDQ R15, DI
	DECQ AX
	JNZ  vector

	LEAQ (R11)(R12*1), SI  // past the second block
	ADDQ $64, R8
	ADDQ $64, R13
	DECQ R9
	JNZ  pair

done:
	VZEROUPPER
	RET
