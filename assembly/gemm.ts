/**
 * float32 gemm for the engine, compiled by asc to WebAssembly SIMD (scripts/build-wasm.mjs builds it twice: plain
 * SIMD, and relaxed SIMD where ASC_FEATURE_RELAXED_SIMD turns every multiply-add into one fused f32x4.relaxed_madd).
 *
 * Same contract as src/engine/gemm.ts: C = alpha · op(A) · op(B) + beta · C, row-major; with transA A is stored
 * k x m, with transB B is stored n x k; beta = 0 never reads C. Every matrix argument is a byte offset into this
 * module's linear memory, and `scratch` points at scratchBytes() bytes the caller owns.
 *
 * Same blocking as the TS gemm (GotoBLAS/BLIS): a block of up to KC rows and NC columns of op(B) is packed into
 * NR-wide panels laid out k-major, each MR-row panel of op(A) is packed k-major too, and the micro-kernel keeps the
 * MR x NR = 4 x 8 block of C in eight v128 locals while it walks k. Packing removes the transposes, so one kernel
 * serves A·B, Aᵀ·B and A·Bᵀ; panels are zero-padded, so the kernel never branches on edges. The loop is not
 * unrolled on purpose: V8 then runs out of the 16 vector registers and spills.
 */

const MR: i32 = 4;
const NR: i32 = 8;
// Packed B (KC x NC floats = 256 KiB) stays in Zen 3's 512 KiB L2; a packed A panel (4 KiB) stays in L1.
const KC: i32 = 256;
const NC: i32 = 256;

const PACKED_A_BYTES: i32 = MR * KC * 4;
const PACKED_B_BYTES: i32 = KC * NC * 4;
const EDGE_BYTES: i32 = MR * NR * 4;

/** Bytes of packing scratch a gemm call needs, whatever its shape. */
export function scratchBytes(): i32 {
  return PACKED_A_BYTES + PACKED_B_BYTES + EDGE_BYTES;
}

/** First byte the module itself does not use; the host allocates from here. */
export function heapBase(): usize {
  return __heap_base;
}

export function gemm(
  transA: i32,
  transB: i32,
  m: i32,
  n: i32,
  k: i32,
  alpha: f32,
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  beta: f32,
  c: usize,
  ldc: i32,
  scratch: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0) {
    scale(m, n, beta, c, ldc);
    return;
  }
  const packedA = scratch;
  const packedB = scratch + PACKED_A_BYTES;
  const edge = packedB + PACKED_B_BYTES;
  // Blocks of equal size (8-aligned for columns) rather than full blocks plus a thin remainder.
  const nBlocks = (n + NC - 1) / NC;
  const ncMax = (((n + nBlocks - 1) / nBlocks + NR - 1) / NR) * NR;
  const kBlocks = (k + KC - 1) / KC;
  const kcMax = (k + kBlocks - 1) / kBlocks;

  for (let j0 = 0; j0 < n; j0 += ncMax) {
    const nc = min(ncMax, n - j0);
    const nPanels = (nc + NR - 1) / NR;
    for (let p0 = 0; p0 < k; p0 += kcMax) {
      const kc = min(kcMax, k - p0);
      // The first k block applies beta; later blocks accumulate onto what the first one wrote.
      const betaHere: f32 = p0 == 0 ? beta : 1;
      packB(transB, b, ldb, p0, kc, j0, nc, packedB);
      for (let i0 = 0; i0 < m; i0 += MR) {
        const mr = min(MR, m - i0);
        packA(transA, a, lda, i0, mr, p0, kc, packedA);
        for (let jp = 0; jp < nPanels; jp++) {
          const jj0 = jp * NR;
          const cBlock = c + ((<usize>i0 * ldc + j0 + jj0) << 2);
          kernel(kc, packedA, packedB + <usize>(jp * NR * kc) * 4, cBlock, ldc, mr, min(NR, nc - jj0), alpha, betaHere, edge);
        }
      }
    }
  }
}

function scale(m: i32, n: i32, beta: f32, c: usize, ldc: i32): void {
  for (let i = 0; i < m; i++) {
    const row = c + ((<usize>i * ldc) << 2);
    for (let j = 0; j < n; j++) {
      const cell = row + (<usize>j << 2);
      store<f32>(cell, beta == 0 ? 0 : beta * load<f32>(cell));
    }
  }
}

// Element (row, col) of a row-major matrix at byte offset `base` with leading dimension ld.
@inline function at(base: usize, ld: i32, row: i32, col: i32): usize {
  return base + ((<usize>row * ld + col) << 2);
}

/**
 * 4x4 transpose of rows r0..r3 (each 4 consecutive floats starting at p, p+ld, ...): column q goes to dst + q*stride.
 * This is how the gathering packs (A not transposed, B transposed) stay vectorised.
 */
@inline function transpose4(src: usize, ldBytes: usize, dst: usize, strideBytes: usize): void {
  const r0 = v128.load(src);
  const r1 = v128.load(src + ldBytes);
  const r2 = v128.load(src + 2 * ldBytes);
  const r3 = v128.load(src + 3 * ldBytes);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(dst + strideBytes, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * strideBytes, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * strideBytes, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/** Packs rows p0..p0+kc, columns j0..j0+nc of op(B) into NR-wide k-major panels: panel jp holds kc rows of NR floats. */
function packB(trans: i32, b: usize, ldb: i32, p0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  const nPanels = (nc + NR - 1) / NR;
  for (let jp = 0; jp < nPanels; jp++) {
    const col = j0 + jp * NR;
    const nr = min(NR, nc - jp * NR);
    const panel = dst + <usize>(jp * NR * kc) * 4;
    if (nr == NR && !trans) {
      for (let p = 0; p < kc; p++) {
        const src = at(b, ldb, p0 + p, col);
        const o = panel + <usize>(p * NR) * 4;
        v128.store(o, v128.load(src));
        v128.store(o, v128.load(src, 16), 16);
      }
    } else if (nr == NR) {
      // op(B)[p][j] = b[j][p]: gather 4 k-steps of 4 columns at a time.
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const o = panel + <usize>(p * NR) * 4;
        transpose4(at(b, ldb, col, p0 + p), <usize>ldb << 2, o, NR * 4);
        transpose4(at(b, ldb, col + 4, p0 + p), <usize>ldb << 2, o + 16, NR * 4);
      }
      for (; p < kc; p++) {
        for (let jj = 0; jj < NR; jj++) store<f32>(panel + <usize>(p * NR + jj) * 4, load<f32>(at(b, ldb, col + jj, p0 + p)));
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let jj = 0; jj < NR; jj++) {
          const value: f32 = jj >= nr ? 0 : load<f32>(trans ? at(b, ldb, col + jj, p0 + p) : at(b, ldb, p0 + p, col + jj));
          store<f32>(panel + <usize>(p * NR + jj) * 4, value);
        }
      }
    }
  }
}

/** Packs rows i0..i0+mr, columns p0..p0+kc of op(A) k-major: kc groups of MR floats. */
function packA(trans: i32, a: usize, lda: i32, i0: i32, mr: i32, p0: i32, kc: i32, dst: usize): void {
  if (mr == MR && trans) {
    for (let p = 0; p < kc; p++) v128.store(dst + <usize>(p * MR) * 4, v128.load(at(a, lda, p0 + p, i0)));
  } else if (mr == MR) {
    let p = 0;
    for (; p + 4 <= kc; p += 4) transpose4(at(a, lda, i0, p0 + p), <usize>lda << 2, dst + <usize>(p * MR) * 4, MR * 4);
    for (; p < kc; p++) {
      for (let ii = 0; ii < MR; ii++) store<f32>(dst + <usize>(p * MR + ii) * 4, load<f32>(at(a, lda, i0 + ii, p0 + p)));
    }
  } else {
    for (let p = 0; p < kc; p++) {
      for (let ii = 0; ii < MR; ii++) {
        const value: f32 = ii >= mr ? 0 : load<f32>(trans ? at(a, lda, p0 + p, i0 + ii) : at(a, lda, i0 + ii, p0 + p));
        store<f32>(dst + <usize>(p * MR + ii) * 4, value);
      }
    }
  }
}

/** acc + a · b, fused into one instruction when the relaxed build allows it. */
@inline function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

/**
 * The 4 x 8 micro-kernel: row r of the C block lives in c{r}0 (columns 0..3) and c{r}1 (columns 4..7); each k step
 * loads one packed row of B (two v128) and broadcasts the four packed A values. Then writes the block to C
 * (mr x nr of it at the edges, via the `edge` buffer).
 */
function kernel(kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, mr: i32, nr: i32, alpha: f32, beta: f32, edge: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let av = v128.load32_splat(pa);
    c00 = madd(av, b0, c00);
    c01 = madd(av, b1, c01);
    av = v128.load32_splat(pa, 4);
    c10 = madd(av, b0, c10);
    c11 = madd(av, b1, c11);
    av = v128.load32_splat(pa, 8);
    c20 = madd(av, b0, c20);
    c21 = madd(av, b1, c21);
    av = v128.load32_splat(pa, 12);
    c30 = madd(av, b0, c30);
    c31 = madd(av, b1, c31);
    pa += MR * 4;
    pb += NR * 4;
  }
  const alphaV = f32x4.splat(alpha);
  if (mr == MR && nr == NR) {
    const ldcBytes = <usize>ldc << 2;
    storeRow(c, c00, c01, alphaV, beta);
    storeRow(c + ldcBytes, c10, c11, alphaV, beta);
    storeRow(c + 2 * ldcBytes, c20, c21, alphaV, beta);
    storeRow(c + 3 * ldcBytes, c30, c31, alphaV, beta);
    return;
  }
  v128.store(edge, c00);
  v128.store(edge, c01, 16);
  v128.store(edge, c10, 32);
  v128.store(edge, c11, 48);
  v128.store(edge, c20, 64);
  v128.store(edge, c21, 80);
  v128.store(edge, c30, 96);
  v128.store(edge, c31, 112);
  for (let ii = 0; ii < mr; ii++) {
    for (let jj = 0; jj < nr; jj++) {
      const dst = at(c, ldc, ii, jj);
      const value = alpha * load<f32>(edge + <usize>(ii * NR + jj) * 4);
      store<f32>(dst, beta == 0 ? value : beta * load<f32>(dst) + value);
    }
  }
}

@inline function storeRow(row: usize, lo: v128, hi: v128, alphaV: v128, beta: f32): void {
  if (beta == 0) {
    v128.store(row, f32x4.mul(lo, alphaV));
    v128.store(row, f32x4.mul(hi, alphaV), 16);
  } else {
    const betaV = f32x4.splat(beta);
    v128.store(row, f32x4.add(f32x4.mul(v128.load(row), betaV), f32x4.mul(lo, alphaV)));
    v128.store(row, f32x4.add(f32x4.mul(v128.load(row, 16), betaV), f32x4.mul(hi, alphaV)), 16);
  }
}

// The optimizer's update shares this module (and its memory layout) rather than shipping a second one.
export { adam } from './optimizer';
export { reluBackward, reluForward } from './elementwise';
export {
  addRows, gruStepBackwardReset, gruStepBackwardUpdate, gruStepGates, gruStepState, lstmStepBackward, lstmStepForward, rnnStepBackward,
  rnnStepForward, sumRows,
} from './recurrent';
