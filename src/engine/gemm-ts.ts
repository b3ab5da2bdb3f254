import type { FloatArray, Gemm } from './types.js';

/**
 * The TypeScript gemm, generic over Float32Array and Float64Array (the float64 path serves gradient checks):
 * C = alpha · op(A) · op(B) + beta · C, row-major, BLAS-style.
 * op(A) is m x k, op(B) is k x n, C is m x n. With transA, A is stored k x m (so A[p][i] = a[p * lda + i]);
 * with transB, B is stored n x k. Forward passes use A·B, weight gradients Aᵀ·B, input gradients A·Bᵀ.
 *
 * Cache-friendly the classic way (GotoBLAS/BLIS): a block of KC rows of op(B) is packed into panels of NR
 * columns laid out k-major, each MR-row panel of op(A) is packed k-major too, and a micro-kernel keeps an
 * MR x NR block of C in local variables while it walks k. Packing also removes the transposes, so one
 * kernel serves all three shapes. Panels are zero-padded, so the kernel never branches on edges.
 */
const MR = 4;
const NR = 8;
const KC = 256;
/** Products this small (Iris-sized layers) finish before packing would pay for itself. */
const SMALL_WORK = 4096;

// Packing scratch, grown on demand and reused: a training step must not allocate.
let packedA = new Float64Array(MR * KC);
let packedB = new Float64Array(NR * KC * 16);
const acc = new Float64Array(MR * NR);

export const tsGemm: Gemm = (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
  if (m === 0 || n === 0) return;
  if (k === 0 || alpha === 0) {
    scale(m, n, beta, c, ldc);
    return;
  }
  if (m * n * k <= SMALL_WORK) {
    // Batch 1 gets its own loops: a weight gradient is an outer product (k = 1), the other products a single row.
    // op(A)[i][p] = a[i*ai + p*ap], op(B)[p][j] = b[p*bp + j*bj].
    const ai = transA ? 1 : lda;
    const ap = transA ? lda : 1;
    const bp = transB ? 1 : ldb;
    const bj = transB ? ldb : 1;
    if (k === 1) outerProduct(m, n, alpha, a, ai, b, bj, beta, c, ldc);
    else if (m === 1) rowProduct(n, k, alpha, a, 0, ap, b, bp, bj, beta, c, 0);
    else smallGemm(m, n, k, alpha, a, ai, ap, b, bp, bj, beta, c, ldc);
    return;
  }
  const nPanels = Math.ceil(n / NR);
  if (packedB.length < nPanels * NR * KC) packedB = new Float64Array(nPanels * NR * KC);
  if (packedA.length < MR * KC) packedA = new Float64Array(MR * KC);

  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    // The first k block applies beta; later blocks accumulate onto what the first one wrote.
    const betaHere = p0 === 0 ? beta : 1;
    packB(transB, b, ldb, p0, kc, n, nPanels);
    for (let i0 = 0; i0 < m; i0 += MR) {
      const mr = Math.min(MR, m - i0);
      packA(transA, a, lda, i0, mr, p0, kc);
      for (let jp = 0; jp < nPanels; jp++) {
        const j0 = jp * NR;
        kernel(kc, jp * NR * kc);
        store(c, ldc, i0, mr, j0, Math.min(NR, n - j0), alpha, betaHere);
      }
    }
  }
};

/**
 * Small products (Iris-sized layers, batch 2 to a few dozen): no packing. Each element of C is a dot product kept in
 * registers, a 2 x 4 block of them at a time, so one load of op(A) serves four multiply-adds and one load of op(B)
 * two. A read-modify-write of C per multiply-add (the axpy form) costs about three times as much in JavaScript,
 * and packing would cost more than the product itself.
 */
function smallGemm(
  m: number, n: number, k: number, alpha: number, a: FloatArray, ai: number, ap: number,
  b: FloatArray, bp: number, bj: number, beta: number, c: FloatArray, ldc: number,
): void {
  const n4 = n - (n % 4);
  let i = 0;
  for (; i + 1 < m; i += 2) {
    const c0 = i * ldc;
    const c1 = c0 + ldc;
    let j = 0;
    for (; j < n4; j += 4) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let p = 0, ia = i * ai, ib = j * bj; p < k; p++, ia += ap, ib += bp) {
        const a0 = a[ia], a1 = a[ia + ai];
        const b0 = b[ib], b1 = b[ib + bj], b2 = b[ib + 2 * bj], b3 = b[ib + 3 * bj];
        s00 += a0 * b0; s01 += a0 * b1; s02 += a0 * b2; s03 += a0 * b3;
        s10 += a1 * b0; s11 += a1 * b1; s12 += a1 * b2; s13 += a1 * b3;
      }
      put(c, c0 + j, s00, alpha, beta); put(c, c0 + j + 1, s01, alpha, beta);
      put(c, c0 + j + 2, s02, alpha, beta); put(c, c0 + j + 3, s03, alpha, beta);
      put(c, c1 + j, s10, alpha, beta); put(c, c1 + j + 1, s11, alpha, beta);
      put(c, c1 + j + 2, s12, alpha, beta); put(c, c1 + j + 3, s13, alpha, beta);
    }
    for (; j < n; j++) {
      let s0 = 0, s1 = 0;
      for (let p = 0, ia = i * ai, ib = j * bj; p < k; p++, ia += ap, ib += bp) {
        const bv = b[ib];
        s0 += a[ia] * bv;
        s1 += a[ia + ai] * bv;
      }
      put(c, c0 + j, s0, alpha, beta);
      put(c, c1 + j, s1, alpha, beta);
    }
  }
  // The last row of an odd m.
  if (i < m) rowProduct(n, k, alpha, a, i * ai, ap, b, bp, bj, beta, c, i * ldc);
}

/** A weight gradient at batch 1: C = alpha · a ⊗ b + beta · C, one multiply per element of C. */
function outerProduct(
  m: number, n: number, alpha: number, a: FloatArray, ai: number, b: FloatArray, bj: number, beta: number, c: FloatArray, ldc: number,
): void {
  for (let i = 0; i < m; i++) {
    const av = alpha * a[i * ai];
    const ci = i * ldc;
    // beta is tested once per row, not once per element: at batch 1 this loop is most of a weight gradient.
    if (beta === 0) for (let j = 0; j < n; j++) c[ci + j] = av * b[j * bj];
    else for (let j = 0; j < n; j++) c[ci + j] = beta * c[ci + j] + av * b[j * bj];
  }
}

/** One row of C (at offset ci) from one row of op(A) (at offset ia0): dot products with four columns of op(B) at a time. */
function rowProduct(
  n: number, k: number, alpha: number, a: FloatArray, ia0: number, ap: number,
  b: FloatArray, bp: number, bj: number, beta: number, c: FloatArray, ci: number,
): void {
  const n4 = n - (n % 4);
  let j = 0;
  for (; j < n4; j += 4) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let p = 0, ia = ia0, ib = j * bj; p < k; p++, ia += ap, ib += bp) {
      const av = a[ia];
      s0 += av * b[ib]; s1 += av * b[ib + bj]; s2 += av * b[ib + 2 * bj]; s3 += av * b[ib + 3 * bj];
    }
    put(c, ci + j, s0, alpha, beta); put(c, ci + j + 1, s1, alpha, beta);
    put(c, ci + j + 2, s2, alpha, beta); put(c, ci + j + 3, s3, alpha, beta);
  }
  for (; j < n; j++) {
    let s = 0;
    for (let p = 0, ia = ia0, ib = j * bj; p < k; p++, ia += ap, ib += bp) s += a[ia] * b[ib];
    put(c, ci + j, s, alpha, beta);
  }
}

/** C[index] = alpha · sum + beta · C[index], never reading C when beta is 0. */
function put(c: FloatArray, index: number, sum: number, alpha: number, beta: number): void {
  c[index] = beta === 0 ? alpha * sum : beta * c[index] + alpha * sum;
}

function scale(m: number, n: number, beta: number, c: FloatArray, ldc: number): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) c[i * ldc + j] = beta === 0 ? 0 : beta * c[i * ldc + j];
  }
}

function packB(trans: boolean, b: FloatArray, ldb: number, p0: number, kc: number, n: number, nPanels: number) {
  const dst = packedB;
  for (let jp = 0; jp < nPanels; jp++) {
    const j0 = jp * NR;
    const nr = Math.min(NR, n - j0);
    const base = jp * NR * kc;
    for (let p = 0; p < kc; p++) {
      const o = base + p * NR;
      for (let jj = 0; jj < nr; jj++) {
        dst[o + jj] = trans ? b[(j0 + jj) * ldb + p0 + p] : b[(p0 + p) * ldb + j0 + jj];
      }
      for (let jj = nr; jj < NR; jj++) dst[o + jj] = 0;
    }
  }
}

function packA(trans: boolean, a: FloatArray, lda: number, i0: number, mr: number, p0: number, kc: number) {
  const dst = packedA;
  for (let p = 0; p < kc; p++) {
    const o = p * MR;
    for (let ii = 0; ii < mr; ii++) {
      dst[o + ii] = trans ? a[(p0 + p) * lda + i0 + ii] : a[(i0 + ii) * lda + p0 + p];
    }
    for (let ii = mr; ii < MR; ii++) dst[o + ii] = 0;
  }
}

/** MR x NR = 4 x 8 block of C in 32 locals; k innermost. */
function kernel(kc: number, bOffset: number): void {
  const pa = packedA;
  const pb = packedB;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c04 = 0, c05 = 0, c06 = 0, c07 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0, c16 = 0, c17 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c24 = 0, c25 = 0, c26 = 0, c27 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0, c34 = 0, c35 = 0, c36 = 0, c37 = 0;
  for (let p = 0, ia = 0, ib = bOffset; p < kc; p++, ia += MR, ib += NR) {
    const a0 = pa[ia], a1 = pa[ia + 1], a2 = pa[ia + 2], a3 = pa[ia + 3];
    const b0 = pb[ib], b1 = pb[ib + 1], b2 = pb[ib + 2], b3 = pb[ib + 3];
    const b4 = pb[ib + 4], b5 = pb[ib + 5], b6 = pb[ib + 6], b7 = pb[ib + 7];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c04 += a0 * b4; c05 += a0 * b5; c06 += a0 * b6; c07 += a0 * b7;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c14 += a1 * b4; c15 += a1 * b5; c16 += a1 * b6; c17 += a1 * b7;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c24 += a2 * b4; c25 += a2 * b5; c26 += a2 * b6; c27 += a2 * b7;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    c34 += a3 * b4; c35 += a3 * b5; c36 += a3 * b6; c37 += a3 * b7;
  }
  const r = acc;
  r[0] = c00; r[1] = c01; r[2] = c02; r[3] = c03; r[4] = c04; r[5] = c05; r[6] = c06; r[7] = c07;
  r[8] = c10; r[9] = c11; r[10] = c12; r[11] = c13; r[12] = c14; r[13] = c15; r[14] = c16; r[15] = c17;
  r[16] = c20; r[17] = c21; r[18] = c22; r[19] = c23; r[20] = c24; r[21] = c25; r[22] = c26; r[23] = c27;
  r[24] = c30; r[25] = c31; r[26] = c32; r[27] = c33; r[28] = c34; r[29] = c35; r[30] = c36; r[31] = c37;
}

function store(c: FloatArray, ldc: number, i0: number, mr: number, j0: number, nr: number, alpha: number, beta: number) {
  for (let ii = 0; ii < mr; ii++) {
    const row = (i0 + ii) * ldc + j0;
    const o = ii * NR;
    if (beta === 0) {
      for (let jj = 0; jj < nr; jj++) c[row + jj] = alpha * acc[o + jj];
    } else {
      for (let jj = 0; jj < nr; jj++) c[row + jj] = beta * c[row + jj] + alpha * acc[o + jj];
    }
  }
}

/** The textbook triple loop, kept as the reference the fast path is tested against. */
export const gemmReference: Gemm = (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[p * lda + i] : a[i * lda + p];
        const bv = transB ? b[j * ldb + p] : b[p * ldb + j];
        sum += av * bv;
      }
      c[i * ldc + j] = (beta === 0 ? 0 : beta * c[i * ldc + j]) + alpha * sum;
    }
  }
};
