//go:build amd64 && !purego

#include "textflag.h"

// func blockMatVecAVX2(w, b, x, y *float32, blocks, cols int)
//
// For each block of 8 rows: y[0:8] = b[0:8] + Σ_c w[c*8:c*8+8] * x[c].
// Two blocks per pass share the broadcasts of x; four columns per step go
// to four accumulators per block (FMA latency), summed at the end.
// blocks is even, cols a multiple of 4; w advances through the blocks.
TEXT ·blockMatVecAVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), SI
	MOVQ b+8(FP), R8
	MOVQ x+16(FP), DX
	MOVQ y+24(FP), DI
	MOVQ blocks+32(FP), R9
	MOVQ cols+40(FP), R10
	MOVQ R10, R12
	SHLQ $5, R12           // bytes per block: cols * 8 floats * 4
	SHRQ $2, R10           // steps of 4 columns
	SHRQ $1, R9            // pairs of blocks
	TESTQ R9, R9
	JZ   done
	TESTQ R10, R10
	JZ   done

pair:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	LEAQ (SI)(R12*1), R11  // the second block's weights
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
	MOVQ R11, SI           // past the second block
	ADDQ $64, R8
	ADDQ $64, DI
	DECQ R9
	JNZ  pair

done:
	VZEROUPPER
	RET
