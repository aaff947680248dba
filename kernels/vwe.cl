/* vwe.cl: viscoelastic wave equation, staggered velocity-stress grid,
 * 4th order in space, leapfrog in time (docs/presets.md "vwe").
 *
 * Three kernel families, launched separately each step:
 *   vwe_particle        velocities from stress divergence
 *   vwe_source_velocity / vwe_source_stress   driven cells
 *   vwe_stress          stresses, memory variables, pressure maps
 *   vwe_sensors         samples chosen quantities at sensor cells
 *
 * Problem constants arrive as #define lines from the host: DIM (2 or 3),
 * NX NY NZ (NZ 1 in 2D), WX WY WZ (PML slab width per axis, 0 for none),
 * PER_X PER_Y PER_Z (periodic axes), ATTEN (memory variables present),
 * MAPS (peak/RMS pressure maps), G1 G2 (memory-variable update factors),
 * NPSI (PML memory components per axis: 2 DIM).
 *
 * Material table, per material, scaled by dt/h so that kernels work with
 * raw stencil differences: [0] dt/(rho h), [1] piU, [2] piR, [3] muU,
 * [4] muR (unrelaxed/relaxed P modulus lambda+2mu and shear modulus).
 * PML table per axis a at offset PML_OFF_a: b at integer nodes, a at
 * integer nodes, b at half nodes, a at half nodes (n values each).
 */
#include "wb-common.h"


#define C1 (9.0f / 8.0f)
#define C2 (-1.0f / 24.0f)

#define PML_OFF_X 0
#define PML_OFF_Y (4 * NX)
#define PML_OFF_Z (4 * NX + 4 * NY)

#define IDX(i, j, k) ((i) + NX * ((j) + NY * (k)))

/* PoCL leaves plain `inline` helpers as calls, which stops it from
 * vectorising the work-group loop; force them in. */
#define VWE_INLINE static inline __attribute__ ((always_inline))

/* Neighbour index along an axis: wraps when periodic, else -1 outside. */
VWE_INLINE int
wrap_x (int i)
{
#if PER_X
  return (i + NX) % NX;
#else
  return (i >= 0 && i < NX) ? i : -1;
#endif
}

VWE_INLINE int
wrap_y (int j)
{
#if PER_Y
  return (j + NY) % NY;
#else
  return (j >= 0 && j < NY) ? j : -1;
#endif
}

VWE_INLINE int
wrap_z (int k)
{
#if PER_Z
  return (k + NZ) % NZ;
#else
  return (k >= 0 && k < NZ) ? k : -1;
#endif
}

/* Values outside the grid are zero. */
VWE_INLINE float
ld (global const float *f, int i, int j, int k)
{
  int a = wrap_x (i), b = wrap_y (j), c = wrap_z (k);
  return (a < 0 || b < 0 || c < 0) ? 0.0f : f[IDX (a, b, c)];
}

/* The material of a neighbouring cell: clamped at the grid's edge. */
VWE_INLINE int
mat_at (global const uchar *mat, int i, int j, int k)
{
#if PER_X
  i = (i + NX) % NX;
#else
  i = clamp (i, 0, NX - 1);
#endif
#if PER_Y
  j = (j + NY) % NY;
#else
  j = clamp (j, 0, NY - 1);
#endif
#if PER_Z
  k = (k + NZ) % NZ;
#else
  k = clamp (k, 0, NZ - 1);
#endif
  return mat[IDX (i, j, k)];
}

/* A neighbour of the work-item's cell c = (i, j, k): read directly when
 * the whole stencil is inside the grid (the common case, and a branch
 * that is uniform across a group), else through ld. */
#define AT(f, a, b, cc) (inside ? f[ci + (a) + NX * ((b) + NY * (cc))] \
                                : ld (f, i + (a), j + (b), k + (cc)))

/* Forward difference: at i+1/2 from integer nodes.  Backward: at i from
 * half nodes (element m is at m+1/2). */
#define DF_X(f) (C1 * (AT (f, 1, 0, 0) - AT (f, 0, 0, 0)) + C2 * (AT (f, 2, 0, 0) - AT (f, -1, 0, 0)))
#define DB_X(f) (C1 * (AT (f, 0, 0, 0) - AT (f, -1, 0, 0)) + C2 * (AT (f, 1, 0, 0) - AT (f, -2, 0, 0)))
#define DF_Y(f) (C1 * (AT (f, 0, 1, 0) - AT (f, 0, 0, 0)) + C2 * (AT (f, 0, 2, 0) - AT (f, 0, -1, 0)))
#define DB_Y(f) (C1 * (AT (f, 0, 0, 0) - AT (f, 0, -1, 0)) + C2 * (AT (f, 0, 1, 0) - AT (f, 0, -2, 0)))
#define DF_Z(f) (C1 * (AT (f, 0, 0, 1) - AT (f, 0, 0, 0)) + C2 * (AT (f, 0, 0, 2) - AT (f, 0, 0, -1)))
#define DB_Z(f) (C1 * (AT (f, 0, 0, 0) - AT (f, 0, 0, -1)) + C2 * (AT (f, 0, 0, 1) - AT (f, 0, 0, -2)))

/* Material of a neighbouring cell (clamped or wrapped at the edges). */
#define MAT(a, b, cc) (inside ? (int) mat[ci + (a) + NX * ((b) + NY * (cc))] \
                              : mat_at (mat, i + (a), j + (b), k + (cc)))

#if DIM == 3
#define INSIDE (i >= 2 && i < NX - 2 && j >= 2 && j < NY - 2 && k >= 2 && k < NZ - 2)
#else
#define INSIDE (i >= 2 && i < NX - 2 && j >= 2 && j < NY - 2)
#endif

/* Convolutional PML: inside the slab of axis x the derivative d becomes
 * d + psi with psi' = b psi + a d (kappa = 1, psi in stencil units).
 * Each work-item owns the psi of its own nodes. */
VWE_INLINE float
cpml_x (global float *psi, global const float *pml, int comp, int hf,
        int i, int j, int k, float d)
{
#if WX > 0
  if (i < WX || i >= NX - WX)
    {
      int ip = i < WX ? i : i - (NX - 2 * WX);
      size_t at = ((size_t) (comp * NZ + k) * NY + j) * (2 * WX) + ip;
      float b = pml[PML_OFF_X + (hf ? 2 : 0) * NX + i];
      float a = pml[PML_OFF_X + (hf ? 3 : 1) * NX + i];
      float p = b * psi[at] + a * d;
      psi[at] = p;
      return d + p;
    }
#endif
  return d;
}

VWE_INLINE float
cpml_y (global float *psi, global const float *pml, int comp, int hf,
        int i, int j, int k, float d)
{
#if WY > 0
  if (j < WY || j >= NY - WY)
    {
      int jp = j < WY ? j : j - (NY - 2 * WY);
      size_t at = ((size_t) (comp * NZ + k) * (2 * WY) + jp) * NX + i;
      float b = pml[PML_OFF_Y + (hf ? 2 : 0) * NY + j];
      float a = pml[PML_OFF_Y + (hf ? 3 : 1) * NY + j];
      float p = b * psi[at] + a * d;
      psi[at] = p;
      return d + p;
    }
#endif
  return d;
}

VWE_INLINE float
cpml_z (global float *psi, global const float *pml, int comp, int hf,
        int i, int j, int k, float d)
{
#if WZ > 0
  if (k < WZ || k >= NZ - WZ)
    {
      int kp = k < WZ ? k : k - (NZ - 2 * WZ);
      size_t at = ((size_t) (comp * (2 * WZ) + kp) * NY + j) * NX + i;
      float b = pml[PML_OFF_Z + (hf ? 2 : 0) * NZ + k];
      float a = pml[PML_OFF_Z + (hf ? 3 : 1) * NZ + k];
      float p = b * psi[at] + a * d;
      psi[at] = p;
      return d + p;
    }
#endif
  return d;
}

/* Shear modulus at an edge: the harmonic mean of its four cells' moduli
 * (table slot @slot), 0 when any is 0 (a fluid cell): shear stress cannot
 * cross a fluid.  Inside one material it is that material's modulus. */
VWE_INLINE float
edge_modulus (constant float *tab, int slot, int m0, int m1, int m2, int m3)
{
  if (m0 == m1 && m0 == m2 && m0 == m3)
    return tab[8 * m0 + slot];
  float a = tab[8 * m0 + slot], b = tab[8 * m1 + slot];
  float c = tab[8 * m2 + slot], d = tab[8 * m3 + slot];
  return (a > 0.0f && b > 0.0f && c > 0.0f && d > 0.0f)
         ? 4.0f / (1.0f / a + 1.0f / b + 1.0f / c + 1.0f / d) : 0.0f;
}

/* New memory variable (Crank-Nicolson) and the stress increment. */
#define RELAX(s, r, x_u, x_d)                                      \
  do {                                                              \
    float r_old = r[c];                                             \
    float r_new = G1 * r_old - G2 * (x_d);                          \
    r[c] = r_new;                                                   \
    s[c] += (x_u) + 0.5f * (r_old + r_new);                         \
  } while (0)

/* restrict: every buffer is distinct (placeholders for absent fields are
 * never touched), which lets GPU compilers use their read-only caches;
 * 1-2% on an H200. */
kernel void
vwe_stress (global const uchar *restrict mat,
            constant float     *tab,
            global const float *restrict pml,
            global const float *restrict vx,
            global const float *restrict vy,
            global const float *restrict vz,
            global float       *restrict sxx,
            global float       *restrict syy,
            global float       *restrict szz,
            global float       *restrict sxy,
            global float       *restrict sxz,
            global float       *restrict syz,
            global float       *restrict rxx,
            global float       *restrict ryy,
            global float       *restrict rzz,
            global float       *restrict rxy,
            global float       *restrict rxz,
            global float       *restrict ryz,
            global float       *restrict psix,
            global float       *restrict psiy,
            global float       *restrict psiz,
            global float       *restrict peak,
            global float       *restrict sumsq
            WB_PROBE_ARG)
{
  const int i = get_global_id (0), j = get_global_id (1);
#if DIM == 3
  const int k = get_global_id (2);
#else
  const int k = 0;
#endif

  /* The global size may be rounded up to the work-group size. */
  if (i >= NX || j >= NY
#if DIM == 3
      || k >= NZ
#endif
     )
    return;

  const size_t c = IDX (i, j, k);
  const int ci = (int) c;
  const bool inside = INSIDE;
#undef WB_PROBE_ID
#define WB_PROBE_ID c
  WB_PROBE (1);
#if WB_VARIANT_EARLY_BOUNDS
  /* BROKEN on purpose (the early-return-vwe-bounds teaching preset,
   * docs/debugging.md): a bounds check against half the grid, left from a
   * version that did two rows per work-item.  Nothing fails; the upper
   * half keeps its stresses. */
  if (j >= NY / 2)
    return;
#endif
  const int m = mat[c];
  const float piU = tab[8 * m + 1], piR = tab[8 * m + 2];
  const float muU = tab[8 * m + 3], muR = tab[8 * m + 4];

  /* Normal strain rates at the cell centre. */
  float exx = cpml_x (psix, pml, 0, 0, i, j, k, DB_X (vx));
  float eyy = cpml_y (psiy, pml, 0, 0, i, j, k, DB_Y (vy));
#if DIM == 3
  float ezz = cpml_z (psiz, pml, 0, 0, i, j, k, DB_Z (vz));
#else
  float ezz = 0.0f;
#endif
  const float div = exx + eyy + ezz;
  WB_PROBE (2);

#if ATTEN
  RELAX (sxx, rxx, piU * div - 2.0f * muU * (eyy + ezz),
         (piU - piR) * div - 2.0f * (muU - muR) * (eyy + ezz));
  RELAX (syy, ryy, piU * div - 2.0f * muU * (exx + ezz),
         (piU - piR) * div - 2.0f * (muU - muR) * (exx + ezz));
#if DIM == 3
  RELAX (szz, rzz, piU * div - 2.0f * muU * (exx + eyy),
         (piU - piR) * div - 2.0f * (muU - muR) * (exx + eyy));
#endif
#else
  sxx[c] += piU * div - 2.0f * muU * (eyy + ezz);
  syy[c] += piU * div - 2.0f * muU * (exx + ezz);
#if DIM == 3
  szz[c] += piU * div - 2.0f * muU * (exx + eyy);
#endif
#endif

#if MAPS
  {
#if DIM == 3
    float p = -(sxx[c] + syy[c] + szz[c]) / 3.0f;
#else
    float p = -0.5f * (sxx[c] + syy[c]);
#endif
    peak[c] = fmax (peak[c], fabs (p));
    sumsq[c] += p * p;
  }
#endif
  WB_PROBE (3);

  /* Shear stresses at the edges above the cell. */
  {
    const int m1 = MAT (1, 0, 0), m2 = MAT (0, 1, 0), m3 = MAT (1, 1, 0);
    const float gU = edge_modulus (tab, 3, m, m1, m2, m3);
    float exy = cpml_y (psiy, pml, 1, 1, i, j, k, DF_Y (vx))
                + cpml_x (psix, pml, 1, 1, i, j, k, DF_X (vy));
#if ATTEN
    const float gR = edge_modulus (tab, 4, m, m1, m2, m3);
    RELAX (sxy, rxy, gU * exy, (gU - gR) * exy);
#else
    sxy[c] += gU * exy;
#endif
  }
#if DIM == 3
  {
    const int m1 = MAT (1, 0, 0), m2 = MAT (0, 0, 1), m3 = MAT (1, 0, 1);
    const float gU = edge_modulus (tab, 3, m, m1, m2, m3);
    float exz = cpml_z (psiz, pml, 1, 1, i, j, k, DF_Z (vx))
                + cpml_x (psix, pml, 2, 1, i, j, k, DF_X (vz));
#if ATTEN
    const float gR = edge_modulus (tab, 4, m, m1, m2, m3);
    RELAX (sxz, rxz, gU * exz, (gU - gR) * exz);
#else
    sxz[c] += gU * exz;
#endif
  }
  {
    const int m1 = MAT (0, 1, 0), m2 = MAT (0, 0, 1), m3 = MAT (0, 1, 1);
    const float gU = edge_modulus (tab, 3, m, m1, m2, m3);
    float eyz = cpml_z (psiz, pml, 2, 1, i, j, k, DF_Z (vy))
                + cpml_y (psiy, pml, 2, 1, i, j, k, DF_Y (vz));
#if ATTEN
    const float gR = edge_modulus (tab, 4, m, m1, m2, m3);
    RELAX (syz, ryz, gU * eyz, (gU - gR) * eyz);
#else
    syz[c] += gU * eyz;
#endif
  }
#endif
  WB_PROBE (4);
}

kernel void
vwe_particle (global const uchar *restrict mat,
              constant float     *tab,
              global const float *restrict pml,
              global float       *restrict vx,
              global float       *restrict vy,
              global float       *restrict vz,
              global const float *restrict sxx,
              global const float *restrict syy,
              global const float *restrict szz,
              global const float *restrict sxy,
              global const float *restrict sxz,
              global const float *restrict syz,
              global float       *restrict psix,
              global float       *restrict psiy,
              global float       *restrict psiz
              WB_PROBE_ARG)
{
  const int i = get_global_id (0), j = get_global_id (1);
#if DIM == 3
  const int k = get_global_id (2);
#else
  const int k = 0;
#endif

  /* The global size may be rounded up to the work-group size. */
  if (i >= NX || j >= NY
#if DIM == 3
      || k >= NZ
#endif
     )
    return;

  const size_t c = IDX (i, j, k);
  const int ci = (int) c;
  const bool inside = INSIDE;
#undef WB_PROBE_ID
#define WB_PROBE_ID c
  WB_PROBE (1);
  const float b0 = tab[8 * mat[c]];
  /* 1/rho at a velocity node: the mean of its two cells. */
  const float bx = 0.5f * (b0 + tab[8 * MAT (1, 0, 0)]);
  const float by = 0.5f * (b0 + tab[8 * MAT (0, 1, 0)]);

  float fx = cpml_x (psix, pml, DIM + 0, 1, i, j, k, DF_X (sxx))
             + cpml_y (psiy, pml, DIM + 1, 0, i, j, k, DB_Y (sxy));
  float fy = cpml_x (psix, pml, DIM + 1, 0, i, j, k, DB_X (sxy))
             + cpml_y (psiy, pml, DIM + 0, 1, i, j, k, DF_Y (syy));
#if DIM == 3
  const float bz = 0.5f * (b0 + tab[8 * MAT (0, 0, 1)]);

  fx += cpml_z (psiz, pml, DIM + 1, 0, i, j, k, DB_Z (sxz));
  fy += cpml_z (psiz, pml, DIM + 2, 0, i, j, k, DB_Z (syz));
  float fz = cpml_x (psix, pml, DIM + 2, 0, i, j, k, DB_X (sxz))
             + cpml_y (psiy, pml, DIM + 2, 0, i, j, k, DB_Y (syz))
             + cpml_z (psiz, pml, DIM + 0, 1, i, j, k, DF_Z (szz));
  vz[c] += bz * fz;
#endif
  WB_PROBE (2);
  vx[c] += bx * fx;
  vy[c] += by * fy;
  WB_PROBE (3);
}

/* --- z-marching variants (3D) ---------------------------------------
 *
 * The same arithmetic as vwe_stress and vwe_particle, term for term, in
 * a different launch: a 2D grid of work-items over (x, y), each walking
 * @zc cells up a column (global size z = ceil(NZ / zc)).  The values of
 * the fields differentiated along z sit in registers as four-deep
 * queues (a 4th-order stencil), so each step up the column loads one new
 * plane of them instead of four; x and y neighbours are global loads that
 * the work-group shares through the L1 cache.  32-bit indices throughout
 * (the host offers these kernels only when every array fits), and with
 * one material (NMAT 1) its constants are literals (TAB_0 .. TAB_4) and
 * the material map is not read at all.  No probes and no teaching
 * variants: kernel debugging runs the cell kernels above. */
#if DIM == 3

#define NXY (NX * NY)

/* Value at (cxy, k) with the grid's z edge rule (zero or periodic). */
VWE_INLINE float
zld (global const float *restrict f, int cxy, int k)
{
#if PER_Z
  return f[cxy + NXY * ((k + NZ) % NZ)];
#else
  return (k >= 0 && k < NZ) ? f[cxy + NXY * k] : 0.0f;
#endif
}

/* A neighbour in the plane of the work-item's cell: direct when the
 * column is at least two cells from the x and y edges. */
#define XY(f, a, b) (in_xy ? f[c + (a) + NX * (b)] : ld (f, i + (a), j + (b), k))

/* x and y differences as DF_X .. DB_Y, the centre value @f0 given. */
#define ZDF_X(f, f0) (C1 * (XY (f, 1, 0) - (f0)) + C2 * (XY (f, 2, 0) - XY (f, -1, 0)))
#define ZDB_X(f, f0) (C1 * ((f0) - XY (f, -1, 0)) + C2 * (XY (f, 1, 0) - XY (f, -2, 0)))
#define ZDF_Y(f, f0) (C1 * (XY (f, 0, 1) - (f0)) + C2 * (XY (f, 0, 2) - XY (f, 0, -1)))
#define ZDB_Y(f, f0) (C1 * ((f0) - XY (f, 0, -1)) + C2 * (XY (f, 0, 1) - XY (f, 0, -2)))
/* z differences from a queue q0..q3: forward (q0..q3 at k-1..k+2) and
 * backward (at k-2..k+1). */
#define QDF(q0, q1, q2, q3) (C1 * ((q2) - (q1)) + C2 * ((q3) - (q0)))
#define QDB(q0, q1, q2, q3) (C1 * ((q2) - (q1)) + C2 * ((q3) - (q0)))

#if NMAT == 1
#define ZMAT0 0
#define ZMAT(a, b, cc) 0
#define ZTAB(m, s) TAB_##s
#define ZEDGE(s, m0, m1, m2, m3) TAB_##s
#else
#define ZMAT0 ((int) mat[c])
#define ZMAT(a, b, cc) (inside ? (int) mat[c + (a) + NX * ((b) + NY * (cc))] \
                               : mat_at (mat, i + (a), j + (b), k + (cc)))
#define ZTAB(m, s) tab[8 * (m) + s]
#define ZEDGE(s, m0, m1, m2, m3) edge_modulus (tab, s, m0, m1, m2, m3)
#endif

/* The stress update of cell c = (i, j, k) from its nine velocity
 * differences, the arithmetic of vwe_stress term for term: the normal
 * strain rates from the backward differences of vx along x, vy along y,
 * vz along z, the shear ones from the forward differences. */
/* The CPML terms, or none (@on false: a cell known to be outside every
 * slab, which the compiler then drops). */
VWE_INLINE float
pcx (bool on, global float *psi, global const float *pml, int comp, int hf, int i, int j, int k,
     float d)
{
  return on ? cpml_x (psi, pml, comp, hf, i, j, k, d) : d;
}

VWE_INLINE float
pcy (bool on, global float *psi, global const float *pml, int comp, int hf, int i, int j, int k,
     float d)
{
  return on ? cpml_y (psi, pml, comp, hf, i, j, k, d) : d;
}

VWE_INLINE float
pcz (bool on, global float *psi, global const float *pml, int comp, int hf, int i, int j, int k,
     float d)
{
  return on ? cpml_z (psi, pml, comp, hf, i, j, k, d) : d;
}

VWE_INLINE void
stress_at (global const uchar *restrict mat, constant float *tab,
           global const float *restrict pml,
           global float *restrict sxx, global float *restrict syy, global float *restrict szz,
           global float *restrict sxy, global float *restrict sxz, global float *restrict syz,
           global float *restrict rxx, global float *restrict ryy, global float *restrict rzz,
           global float *restrict rxy, global float *restrict rxz, global float *restrict ryz,
           global float *restrict psix, global float *restrict psiy, global float *restrict psiz,
           global float *restrict peak, global float *restrict sumsq,
           const int c, const int i, const int j, const int k, const bool inside,
           const bool with_pml, const int part,
           const float bx_vx, const float by_vy, const float bz_vz,
           const float fy_vx, const float fx_vy, const float fz_vx,
           const float fx_vz, const float fz_vy, const float fy_vz)
{
  const int m = ZMAT0;
  const float piU = ZTAB (m, 1), piR = ZTAB (m, 2);
  const float muU = ZTAB (m, 3), muR = ZTAB (m, 4);

  /* part 0: every stress; 1: the normal ones and the maps; 2: the shear
   * ones (the split kernels, for fewer live registers in each). */
  if (part != 2)
  {
  float exx = pcx (with_pml, psix, pml, 0, 0, i, j, k, bx_vx);
  float eyy = pcy (with_pml, psiy, pml, 0, 0, i, j, k, by_vy);
  float ezz = pcz (with_pml, psiz, pml, 0, 0, i, j, k, bz_vz);
  const float div = exx + eyy + ezz;

#if ATTEN
  RELAX (sxx, rxx, piU * div - 2.0f * muU * (eyy + ezz),
         (piU - piR) * div - 2.0f * (muU - muR) * (eyy + ezz));
  RELAX (syy, ryy, piU * div - 2.0f * muU * (exx + ezz),
         (piU - piR) * div - 2.0f * (muU - muR) * (exx + ezz));
  RELAX (szz, rzz, piU * div - 2.0f * muU * (exx + eyy),
         (piU - piR) * div - 2.0f * (muU - muR) * (exx + eyy));
#else
  sxx[c] += piU * div - 2.0f * muU * (eyy + ezz);
  syy[c] += piU * div - 2.0f * muU * (exx + ezz);
  szz[c] += piU * div - 2.0f * muU * (exx + eyy);
#endif
#if MAPS
  {
    float p = -(sxx[c] + syy[c] + szz[c]) / 3.0f;
    peak[c] = fmax (peak[c], fabs (p));
    sumsq[c] += p * p;
  }
#endif
  }
  if (part == 1)
    return;
  {
    const float gU = ZEDGE (3, m, ZMAT (1, 0, 0), ZMAT (0, 1, 0), ZMAT (1, 1, 0));
    float exy = pcy (with_pml, psiy, pml, 1, 1, i, j, k, fy_vx)
                + pcx (with_pml, psix, pml, 1, 1, i, j, k, fx_vy);
#if ATTEN
    const float gR = ZEDGE (4, m, ZMAT (1, 0, 0), ZMAT (0, 1, 0), ZMAT (1, 1, 0));
    RELAX (sxy, rxy, gU * exy, (gU - gR) * exy);
#else
    sxy[c] += gU * exy;
#endif
  }
  {
    const float gU = ZEDGE (3, m, ZMAT (1, 0, 0), ZMAT (0, 0, 1), ZMAT (1, 0, 1));
    float exz = pcz (with_pml, psiz, pml, 1, 1, i, j, k, fz_vx)
                + pcx (with_pml, psix, pml, 2, 1, i, j, k, fx_vz);
#if ATTEN
    const float gR = ZEDGE (4, m, ZMAT (1, 0, 0), ZMAT (0, 0, 1), ZMAT (1, 0, 1));
    RELAX (sxz, rxz, gU * exz, (gU - gR) * exz);
#else
    sxz[c] += gU * exz;
#endif
  }
  {
    const float gU = ZEDGE (3, m, ZMAT (0, 1, 0), ZMAT (0, 0, 1), ZMAT (0, 1, 1));
    float eyz = pcz (with_pml, psiz, pml, 2, 1, i, j, k, fz_vy)
                + pcy (with_pml, psiy, pml, 2, 1, i, j, k, fy_vz);
#if ATTEN
    const float gR = ZEDGE (4, m, ZMAT (0, 1, 0), ZMAT (0, 0, 1), ZMAT (0, 1, 1));
    RELAX (syz, ryz, gU * eyz, (gU - gR) * eyz);
#else
    syz[c] += gU * eyz;
#endif
  }
}

/* The velocity update of cell c from its nine stress differences, the
 * arithmetic of vwe_particle term for term. */
VWE_INLINE void
particle_at (global const uchar *restrict mat, constant float *tab,
             global const float *restrict pml,
             global float *restrict vx, global float *restrict vy, global float *restrict vz,
             global float *restrict psix, global float *restrict psiy, global float *restrict psiz,
             const int c, const int i, const int j, const int k, const bool inside,
             const bool with_pml,
             const float fx_sxx, const float by_sxy, const float bx_sxy, const float fy_syy,
             const float bz_sxz, const float bz_syz, const float bx_sxz, const float by_syz,
             const float fz_szz)
{
  const float b0 = ZTAB (ZMAT0, 0);
  const float bx = 0.5f * (b0 + ZTAB (ZMAT (1, 0, 0), 0));
  const float by = 0.5f * (b0 + ZTAB (ZMAT (0, 1, 0), 0));
  const float bz = 0.5f * (b0 + ZTAB (ZMAT (0, 0, 1), 0));

  float fx = pcx (with_pml, psix, pml, 3, 1, i, j, k, fx_sxx)
             + pcy (with_pml, psiy, pml, 4, 0, i, j, k, by_sxy);
  float fy = pcx (with_pml, psix, pml, 4, 0, i, j, k, bx_sxy)
             + pcy (with_pml, psiy, pml, 3, 1, i, j, k, fy_syy);

  fx += pcz (with_pml, psiz, pml, 4, 0, i, j, k, bz_sxz);
  fy += pcz (with_pml, psiz, pml, 5, 0, i, j, k, bz_syz);
  float fz = pcx (with_pml, psix, pml, 5, 0, i, j, k, bx_sxz)
             + pcy (with_pml, psiy, pml, 5, 0, i, j, k, by_syz)
             + pcz (with_pml, psiz, pml, 3, 1, i, j, k, fz_szz);
  vz[c] += bz * fz;
  vx[c] += bx * fx;
  vy[c] += by * fy;
}

#define STRESS_KERNEL_ARGS                                                       \
  global const uchar *restrict mat, constant float *tab,                         \
  global const float *restrict pml,                                              \
  global const float *restrict vx, global const float *restrict vy,              \
  global const float *restrict vz,                                               \
  global float *restrict sxx, global float *restrict syy, global float *restrict szz, \
  global float *restrict sxy, global float *restrict sxz, global float *restrict syz, \
  global float *restrict rxx, global float *restrict ryy, global float *restrict rzz, \
  global float *restrict rxy, global float *restrict rxz, global float *restrict ryz, \
  global float *restrict psix, global float *restrict psiy, global float *restrict psiz, \
  global float *restrict peak, global float *restrict sumsq
#define STRESS_BUFS mat, tab, pml, sxx, syy, szz, sxy, sxz, syz, rxx, ryy, rzz, \
  rxy, rxz, ryz, psix, psiy, psiz, peak, sumsq
#define PARTICLE_KERNEL_ARGS                                                     \
  global const uchar *restrict mat, constant float *tab,                         \
  global const float *restrict pml,                                              \
  global float *restrict vx, global float *restrict vy, global float *restrict vz, \
  global const float *restrict sxx, global const float *restrict syy,            \
  global const float *restrict szz, global const float *restrict sxy,            \
  global const float *restrict sxz, global const float *restrict syz,            \
  global float *restrict psix, global float *restrict psiy, global float *restrict psiz
#define PARTICLE_BUFS mat, tab, pml, vx, vy, vz, psix, psiy, psiz

kernel void
vwe_stress_zm (STRESS_KERNEL_ARGS, const int zc)
{
  const int i = get_global_id (0), j = get_global_id (1);
  const int k0 = (int) get_global_id (2) * zc;

  if (i >= NX || j >= NY || k0 >= NZ)
    return;

  const int k1 = min (k0 + zc, NZ);
  const bool in_xy = i >= 2 && i < NX - 2 && j >= 2 && j < NY - 2;
  const int cxy = i + NX * j;
  int c = cxy + NXY * k0;
  /* vx, vy at k-1 .. k+2 (forward z differences), vz at k-2 .. k+1. */
  float a0 = zld (vx, cxy, k0 - 1), a1 = vx[c], a2 = zld (vx, cxy, k0 + 1);
  float b0 = zld (vy, cxy, k0 - 1), b1 = vy[c], b2 = zld (vy, cxy, k0 + 1);
  float z0 = zld (vz, cxy, k0 - 2), z1 = zld (vz, cxy, k0 - 1), z2 = vz[c];

  for (int k = k0; k < k1; k++, c += NXY)
    {
      const float a3 = zld (vx, cxy, k + 2), b3 = zld (vy, cxy, k + 2), z3 = zld (vz, cxy, k + 1);
      const bool inside = in_xy && k >= 2 && k < NZ - 2;

      stress_at (STRESS_BUFS, c, i, j, k, inside, true, 0,
                 ZDB_X (vx, a1), ZDB_Y (vy, b1), QDB (z0, z1, z2, z3),
                 ZDF_Y (vx, a1), ZDF_X (vy, b1), QDF (a0, a1, a2, a3),
                 ZDF_X (vz, z2), QDF (b0, b1, b2, b3), ZDF_Y (vz, z2));
      a0 = a1; a1 = a2; a2 = a3;
      b0 = b1; b1 = b2; b2 = b3;
      z0 = z1; z1 = z2; z2 = z3;
    }
}

kernel void
vwe_particle_zm (PARTICLE_KERNEL_ARGS, const int zc)
{
  const int i = get_global_id (0), j = get_global_id (1);
  const int k0 = (int) get_global_id (2) * zc;

  if (i >= NX || j >= NY || k0 >= NZ)
    return;

  const int k1 = min (k0 + zc, NZ);
  const bool in_xy = i >= 2 && i < NX - 2 && j >= 2 && j < NY - 2;
  const int cxy = i + NX * j;
  int c = cxy + NXY * k0;
  /* szz at k-1 .. k+2 (forward z difference), sxz, syz at k-2 .. k+1. */
  float s0 = zld (szz, cxy, k0 - 1), s1 = szz[c], s2 = zld (szz, cxy, k0 + 1);
  float x0 = zld (sxz, cxy, k0 - 2), x1 = zld (sxz, cxy, k0 - 1), x2 = sxz[c];
  float y0 = zld (syz, cxy, k0 - 2), y1 = zld (syz, cxy, k0 - 1), y2 = syz[c];

  for (int k = k0; k < k1; k++, c += NXY)
    {
      const float s3 = zld (szz, cxy, k + 2), x3 = zld (sxz, cxy, k + 1), y3 = zld (syz, cxy, k + 1);
      const bool inside = in_xy && k >= 2 && k < NZ - 2;
      const float cxx = sxx[c], cxy_ = sxy[c], cyy = syy[c];

      particle_at (PARTICLE_BUFS, c, i, j, k, inside, true,
                   ZDF_X (sxx, cxx), ZDB_Y (sxy, cxy_), ZDB_X (sxy, cxy_), ZDF_Y (syy, cyy),
                   QDB (x0, x1, x2, x3), QDB (y0, y1, y2, y3), ZDB_X (sxz, x2), ZDB_Y (syz, y2),
                   QDF (s0, s1, s2, s3));
      s0 = s1; s1 = s2; s2 = s3;
      x0 = x1; x1 = x2; x2 = x3;
      y0 = y1; y1 = y2; y2 = y3;
    }
}

/* --- z-marching with local-memory tiles ("zl") ------------------------
 *
 * As the zm kernels, but the x and y neighbours come from tiles of the
 * current plane in local memory, (LX + 4) x (LY + 4) per field (halo 2),
 * filled by the whole work-group; the grid's edge rule (zero or
 * periodic) is applied while filling, so the differences need no edge
 * branch.  Two tiles per field alternate between planes, so one barrier
 * per plane suffices: a tile is refilled two planes later, after every
 * work-item has passed the barrier of the plane in between.  @tile holds
 * 2 x NT x (LX + 4) x (LY + 4) floats (NT: 3 fields for the stress, 5 for
 * the particle kernel).  The work-group is LX x LY x 1. */

/* Fills tile @t (TN floats, row length TW) with field @f around the
 * group's rectangle at plane @k. */
#define FILL(t, f)                                                       \
  for (int q = lid; q < TN; q += LN)                                     \
    {                                                                    \
      const int ti = q % TW, tj = q / TW;                                \
      const int gi = gx0 + ti - 2, gj = gy0 + tj - 2;                    \
      (t)[q] = full ? (f)[gi + NX * (gj + NY * k)] : ld ((f), gi, gj, k); \
    }
/* Neighbour (a, b) of the work-item's cell in tile @t. */
#define TL(t, a, b) (t)[t0 + (a) + TW * (b)]
#define TDF_X(t, f0) (C1 * (TL (t, 1, 0) - (f0)) + C2 * (TL (t, 2, 0) - TL (t, -1, 0)))
#define TDB_X(t, f0) (C1 * ((f0) - TL (t, -1, 0)) + C2 * (TL (t, 1, 0) - TL (t, -2, 0)))
#define TDF_Y(t, f0) (C1 * (TL (t, 0, 1) - (f0)) + C2 * (TL (t, 0, 2) - TL (t, 0, -1)))
#define TDB_Y(t, f0) (C1 * ((f0) - TL (t, 0, -1)) + C2 * (TL (t, 0, 1) - TL (t, 0, -2)))

#define ZL_SETUP                                                         \
  const int li = get_local_id (0), lj = get_local_id (1);               \
  const int LX = get_local_size (0), LY = get_local_size (1);           \
  const int TW = LX + 4, TN = TW * (LY + 4), LN = LX * LY;              \
  const int lid = li + LX * lj, t0 = (li + 2) + TW * (lj + 2);          \
  const int gx0 = get_group_id (0) * LX, gy0 = get_group_id (1) * LY;   \
  const int i = gx0 + li, j = gy0 + lj;                                 \
  const int k0 = (int) get_group_id (2) * zc;                           \
  const bool active = i < NX && j < NY;                                 \
  const bool full = gx0 >= 2 && gx0 + LX + 2 <= NX && gy0 >= 2 && gy0 + LY + 2 <= NY; \
  const bool in_xy = i >= 2 && i < NX - 2 && j >= 2 && j < NY - 2;      \
  /* Work-items past the grid's edge load from column 0 and store nothing. */ \
  const int cxy = active ? i + NX * j : 0;                              \
  const int k1 = min (k0 + zc, NZ);                                     \
  int c = cxy + NXY * k0

kernel void
vwe_stress_zl (STRESS_KERNEL_ARGS, const int zc, local float *tile)
{
  ZL_SETUP;

  /* Uniform over the group: the whole group has the same k0. */
  if (k0 >= NZ)
    return;
  float a0 = zld (vx, cxy, k0 - 1), a1 = vx[c], a2 = zld (vx, cxy, k0 + 1);
  float b0 = zld (vy, cxy, k0 - 1), b1 = vy[c], b2 = zld (vy, cxy, k0 + 1);
  float z0 = zld (vz, cxy, k0 - 2), z1 = zld (vz, cxy, k0 - 1), z2 = vz[c];

  for (int k = k0; k < k1; k++, c += NXY)
    {
      local float *tx = tile + ((k - k0) & 1) * 3 * TN, *ty = tx + TN, *tz = ty + TN;
      const float a3 = zld (vx, cxy, k + 2), b3 = zld (vy, cxy, k + 2), z3 = zld (vz, cxy, k + 1);
      const bool inside = in_xy && k >= 2 && k < NZ - 2;

      FILL (tx, vx);
      FILL (ty, vy);
      FILL (tz, vz);
      barrier (CLK_LOCAL_MEM_FENCE);
      if (active)
        stress_at (STRESS_BUFS, c, i, j, k, inside, true, 0,
                   TDB_X (tx, a1), TDB_Y (ty, b1), QDB (z0, z1, z2, z3),
                   TDF_Y (tx, a1), TDF_X (ty, b1), QDF (a0, a1, a2, a3),
                   TDF_X (tz, z2), QDF (b0, b1, b2, b3), TDF_Y (tz, z2));
      a0 = a1; a1 = a2; a2 = a3;
      b0 = b1; b1 = b2; b2 = b3;
      z0 = z1; z1 = z2; z2 = z3;
    }
}

kernel void
vwe_particle_zl (PARTICLE_KERNEL_ARGS, const int zc, local float *tile)
{
  ZL_SETUP;

  if (k0 >= NZ)
    return;
  float s0 = zld (szz, cxy, k0 - 1), s1 = szz[c], s2 = zld (szz, cxy, k0 + 1);
  float x0 = zld (sxz, cxy, k0 - 2), x1 = zld (sxz, cxy, k0 - 1), x2 = sxz[c];
  float y0 = zld (syz, cxy, k0 - 2), y1 = zld (syz, cxy, k0 - 1), y2 = syz[c];

  for (int k = k0; k < k1; k++, c += NXY)
    {
      local float *txx = tile + ((k - k0) & 1) * 5 * TN, *tyy = txx + TN, *txy = tyy + TN;
      local float *txz = txy + TN, *tyz = txz + TN;
      const float s3 = zld (szz, cxy, k + 2), x3 = zld (sxz, cxy, k + 1), y3 = zld (syz, cxy, k + 1);
      const bool inside = in_xy && k >= 2 && k < NZ - 2;

      FILL (txx, sxx);
      FILL (tyy, syy);
      FILL (txy, sxy);
      FILL (txz, sxz);
      FILL (tyz, syz);
      barrier (CLK_LOCAL_MEM_FENCE);
      if (active)
        {
          const float cxx = TL (txx, 0, 0), cxy_ = TL (txy, 0, 0), cyy = TL (tyy, 0, 0);

          particle_at (PARTICLE_BUFS, c, i, j, k, inside, true,
                       TDF_X (txx, cxx), TDB_Y (txy, cxy_), TDB_X (txy, cxy_), TDF_Y (tyy, cyy),
                       QDB (x0, x1, x2, x3), QDB (y0, y1, y2, y3), TDB_X (txz, x2),
                       TDB_Y (tyz, y2), QDF (s0, s1, s2, s3));
        }
      s0 = s1; s1 = s2; s2 = s3;
      x0 = x1; x1 = x2; x2 = x3;
      y0 = y1; y1 = y2; y2 = y3;
    }
}
/* --- interior and shell ("in") -------------------------------------------
 *
 * The interior box, at least 2 cells and the PML's width from every face
 * (MX .. NX - MX - 1 along x, and so on), has no CPML and no edge: there
 * vwe_*_in march columns as zm does with neither (no psi, no branches,
 * direct loads only, fewer registers).  The rest, the shell, goes to
 * vwe_*_shell, one work-item per shell cell (a 1D index decoded into the
 * z slabs, then the y slabs of the planes between, then the x slabs of
 * the rows between), with the general code. */
/* z differences at a single cell, through zld. */
#define GDF_Z(f) QDF (zld (f, cxy, k - 1), f[c], zld (f, cxy, k + 1), zld (f, cxy, k + 2))
#define GDB_Z(f) QDB (zld (f, cxy, k - 2), zld (f, cxy, k - 1), f[c], zld (f, cxy, k + 1))

/* --- the stress update in two kernels ("split") ------------------------
 *
 * One cell per work-item as vwe_stress, with its work in two launches:
 * the normal stresses, their memory variables and the maps, then the
 * shear stresses and theirs.  The velocities are read twice (12 bytes a
 * cell more), for about half the live registers in each. */
#define SPLIT_SETUP                                                      \
  const int i = get_global_id (0), j = get_global_id (1), k = get_global_id (2); \
  if (i >= NX || j >= NY || k >= NZ)                                     \
    return;                                                              \
  const int cxy = i + NX * j, c = cxy + NXY * k;                         \
  const bool in_xy = i >= 2 && i < NX - 2 && j >= 2 && j < NY - 2;       \
  const bool inside = in_xy && k >= 2 && k < NZ - 2

kernel void
vwe_stress_n (STRESS_KERNEL_ARGS)
{
  SPLIT_SETUP;
  stress_at (STRESS_BUFS, c, i, j, k, inside, true, 1,
             ZDB_X (vx, vx[c]), ZDB_Y (vy, vy[c]), GDB_Z (vz),
             0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f);
}

kernel void
vwe_stress_s (STRESS_KERNEL_ARGS)
{
  SPLIT_SETUP;
  const float cvx = vx[c], cvy = vy[c], cvz = vz[c];

  stress_at (STRESS_BUFS, c, i, j, k, inside, true, 2, 0.0f, 0.0f, 0.0f,
             ZDF_Y (vx, cvx), ZDF_X (vy, cvy), GDF_Z (vx),
             ZDF_X (vz, cvz), GDF_Z (vy), ZDF_Y (vz, cvz));
}

#define MX (WX > 2 ? WX : 2)
#define MY (WY > 2 ? WY : 2)
#define MZ (WZ > 2 ? WZ : 2)
#if NX > 2 * MX && NY > 2 * MY && NZ > 2 * MZ
#define IX (NX - 2 * MX)
#define IY (NY - 2 * MY)
#define IZ (NZ - 2 * MZ)

/* Shell cell @id to (i, j, k); FALSE past the shell. */
VWE_INLINE bool
shell_cell (int id, int *i, int *j, int *k)
{
  const int na = 2 * MZ * NXY, nb = IZ * 2 * MY * NX, nc = IZ * IY * 2 * MX;

  if (id < na)
    {
      const int p = id / NXY, r = id % NXY;

      *k = p < MZ ? p : NZ - 2 * MZ + p;
      *j = r / NX;
      *i = r % NX;
      return true;
    }
  id -= na;
  if (id < nb)
    {
      const int q = id / (2 * MY * NX), r = id % (2 * MY * NX), row = r / NX;

      *k = MZ + q;
      *j = row < MY ? row : NY - 2 * MY + row;
      *i = r % NX;
      return true;
    }
  id -= nb;
  if (id < nc)
    {
      const int q = id / (2 * MX), x = id % (2 * MX);

      *k = MZ + q / IY;
      *j = MY + q % IY;
      *i = x < MX ? x : NX - 2 * MX + x;
      return true;
    }
  return false;
}

kernel void
vwe_stress_shell (STRESS_KERNEL_ARGS)
{
  int i, j, k;

  if (!shell_cell (get_global_id (0), &i, &j, &k))
    return;

  const int cxy = i + NX * j, c = cxy + NXY * k;
  const bool in_xy = i >= 2 && i < NX - 2 && j >= 2 && j < NY - 2;
  const bool inside = in_xy && k >= 2 && k < NZ - 2;
  const float cvx = vx[c], cvy = vy[c], cvz = vz[c];

  stress_at (STRESS_BUFS, c, i, j, k, inside, true, 0,
             ZDB_X (vx, cvx), ZDB_Y (vy, cvy), GDB_Z (vz),
             ZDF_Y (vx, cvx), ZDF_X (vy, cvy), GDF_Z (vx),
             ZDF_X (vz, cvz), GDF_Z (vy), ZDF_Y (vz, cvz));
}

kernel void
vwe_particle_shell (PARTICLE_KERNEL_ARGS)
{
  int i, j, k;

  if (!shell_cell (get_global_id (0), &i, &j, &k))
    return;

  const int cxy = i + NX * j, c = cxy + NXY * k;
  const bool in_xy = i >= 2 && i < NX - 2 && j >= 2 && j < NY - 2;
  const bool inside = in_xy && k >= 2 && k < NZ - 2;
  const float cxx = sxx[c], cxy_ = sxy[c], cyy = syy[c], cxz = sxz[c], cyz = syz[c];

  particle_at (PARTICLE_BUFS, c, i, j, k, inside, true,
               ZDF_X (sxx, cxx), ZDB_Y (sxy, cxy_), ZDB_X (sxy, cxy_), ZDF_Y (syy, cyy),
               GDB_Z (sxz), GDB_Z (syz), ZDB_X (sxz, cxz), ZDB_Y (syz, cyz), GDF_Z (szz));
}

kernel void
vwe_stress_in (STRESS_KERNEL_ARGS, const int zc)
{
  const int i = MX + (int) get_global_id (0), j = MY + (int) get_global_id (1);
  const int k0 = MZ + (int) get_global_id (2) * zc;

  if (i >= NX - MX || j >= NY - MY || k0 >= NZ - MZ)
    return;

  const int k1 = min (k0 + zc, NZ - MZ);
  const bool in_xy = true;
  int c = i + NX * j + NXY * k0;
  float a0 = vx[c - NXY], a1 = vx[c], a2 = vx[c + NXY];
  float b0 = vy[c - NXY], b1 = vy[c], b2 = vy[c + NXY];
  float z0 = vz[c - 2 * NXY], z1 = vz[c - NXY], z2 = vz[c];

  for (int k = k0; k < k1; k++, c += NXY)
    {
      const float a3 = vx[c + 2 * NXY], b3 = vy[c + 2 * NXY], z3 = vz[c + NXY];

      stress_at (STRESS_BUFS, c, i, j, k, true, false, 0,
                 ZDB_X (vx, a1), ZDB_Y (vy, b1), QDB (z0, z1, z2, z3),
                 ZDF_Y (vx, a1), ZDF_X (vy, b1), QDF (a0, a1, a2, a3),
                 ZDF_X (vz, z2), QDF (b0, b1, b2, b3), ZDF_Y (vz, z2));
      a0 = a1; a1 = a2; a2 = a3;
      b0 = b1; b1 = b2; b2 = b3;
      z0 = z1; z1 = z2; z2 = z3;
    }
}

kernel void
vwe_particle_in (PARTICLE_KERNEL_ARGS, const int zc)
{
  const int i = MX + (int) get_global_id (0), j = MY + (int) get_global_id (1);
  const int k0 = MZ + (int) get_global_id (2) * zc;

  if (i >= NX - MX || j >= NY - MY || k0 >= NZ - MZ)
    return;

  const int k1 = min (k0 + zc, NZ - MZ);
  const bool in_xy = true;
  int c = i + NX * j + NXY * k0;
  float s0 = szz[c - NXY], s1 = szz[c], s2 = szz[c + NXY];
  float x0 = sxz[c - 2 * NXY], x1 = sxz[c - NXY], x2 = sxz[c];
  float y0 = syz[c - 2 * NXY], y1 = syz[c - NXY], y2 = syz[c];

  for (int k = k0; k < k1; k++, c += NXY)
    {
      const float s3 = szz[c + 2 * NXY], x3 = sxz[c + NXY], y3 = syz[c + NXY];
      const float cxx = sxx[c], cxy_ = sxy[c], cyy = syy[c];

      particle_at (PARTICLE_BUFS, c, i, j, k, true, false,
                   ZDF_X (sxx, cxx), ZDB_Y (sxy, cxy_), ZDB_X (sxy, cxy_), ZDF_Y (syy, cyy),
                   QDB (x0, x1, x2, x3), QDB (y0, y1, y2, y3), ZDB_X (sxz, x2), ZDB_Y (syz, y2),
                   QDF (s0, s1, s2, s3));
      s0 = s1; s1 = s2; s2 = s3;
      x0 = x1; x1 = x2; x2 = x3;
      y0 = y1; y1 = y2; y2 = y3;
    }
}
/* The interior one cell per work-item, 3D work-groups (cell layout),
 * with neither CPML nor edge code ("ic": the interior of "in" as the
 * cell kernels lay it out; the same shell kernels do the rest). */
#define IC_SETUP                                                         \
  const int i = MX + (int) get_global_id (0), j = MY + (int) get_global_id (1); \
  const int k = MZ + (int) get_global_id (2);                            \
  if (i >= NX - MX || j >= NY - MY || k >= NZ - MZ)                      \
    return;                                                              \
  const bool in_xy = true;                                               \
  const int c = i + NX * j + NXY * k

kernel void
vwe_stress_ic (STRESS_KERNEL_ARGS)
{
  IC_SETUP;
  const float cvx = vx[c], cvy = vy[c], cvz = vz[c];

  stress_at (STRESS_BUFS, c, i, j, k, true, false, 0,
             ZDB_X (vx, cvx), ZDB_Y (vy, cvy),
             QDB (vz[c - 2 * NXY], vz[c - NXY], cvz, vz[c + NXY]),
             ZDF_Y (vx, cvx), ZDF_X (vy, cvy),
             QDF (vx[c - NXY], cvx, vx[c + NXY], vx[c + 2 * NXY]),
             ZDF_X (vz, cvz), QDF (vy[c - NXY], cvy, vy[c + NXY], vy[c + 2 * NXY]),
             ZDF_Y (vz, cvz));
}

kernel void
vwe_particle_ic (PARTICLE_KERNEL_ARGS)
{
  IC_SETUP;
  const float cxx = sxx[c], cxy_ = sxy[c], cyy = syy[c], cxz = sxz[c], cyz = syz[c];

  particle_at (PARTICLE_BUFS, c, i, j, k, true, false,
               ZDF_X (sxx, cxx), ZDB_Y (sxy, cxy_), ZDB_X (sxy, cxy_), ZDF_Y (syy, cyy),
               QDB (sxz[c - 2 * NXY], sxz[c - NXY], cxz, sxz[c + NXY]),
               QDB (syz[c - 2 * NXY], syz[c - NXY], cyz, syz[c + NXY]),
               ZDB_X (sxz, cxz), ZDB_Y (syz, cyz),
               QDF (szz[c - NXY], szz[c], szz[c + NXY], szz[c + 2 * NXY]));
}
#endif /* an interior */
#endif /* DIM == 3 */

/* Signal value for a point: the half-step table at m - delay (in
 * half steps), linearly interpolated; zero outside the table. */
VWE_INLINE float
signal_at (global const float *table, int n_table, float m)
{
  if (m < 0.0f || m > (float) (n_table - 1))
    return 0.0f;
  int m0 = (int) m;
  int m1 = min (m0 + 1, n_table - 1);
  float f = m - (float) m0;
  return table[m0] + f * (table[m1] - table[m0]);
}

/* One work-item per driven cell.  prm: (delay in half steps, w0, w1, w2). */
kernel void
vwe_source_velocity (global const int    *cells,
                     global const float4 *prm,
                     int                  n_points,
                     global const float  *table,
                     int                  n_table,
                     int                  m,
                     int                  impose,
                     global float        *vx,
                     global float        *vy,
                     global float        *vz
                     WB_PROBE_ARG)
{
  const int p = get_global_id (0);

  if (p >= n_points)
    return;
#undef WB_PROBE_ID
#define WB_PROBE_ID p
  WB_PROBE (1);
  const int c = cells[p];
  const float4 q = prm[p];
  const float s = signal_at (table, n_table, (float) m - q.x);

  if (impose)
    {
      vx[c] = q.y * s;
      vy[c] = q.z * s;
#if DIM == 3
      vz[c] = q.w * s;
#endif
    }
  else
    {
      vx[c] += q.y * s;
      vy[c] += q.z * s;
#if DIM == 3
      vz[c] += q.w * s;
#endif
    }
}

/* Pressure sources drive the normal stresses: sigma_ii = -p. */
kernel void
vwe_source_stress (global const int    *cells,
                   global const float4 *prm,
                   int                  n_points,
                   global const float  *table,
                   int                  n_table,
                   int                  m,
                   int                  impose,
                   global float        *sxx,
                   global float        *syy,
                   global float        *szz
                   WB_PROBE_ARG)
{
  const int p = get_global_id (0);

  if (p >= n_points)
    return;
#undef WB_PROBE_ID
#define WB_PROBE_ID p
  WB_PROBE (1);
  const int c = cells[p];
  const float4 q = prm[p];
  const float s = -q.y * signal_at (table, n_table, (float) m - q.x);

  if (impose)
    {
      sxx[c] = s;
      syy[c] = s;
#if DIM == 3
      szz[c] = s;
#endif
    }
  else
    {
      sxx[c] += s;
      syy[c] += s;
#if DIM == 3
      szz[c] += s;
#endif
    }
}

/* One work-item per channel (cell, quantity); quantities are taken at the
 * cell centre, staggered ones averaged from their neighbouring nodes. */
kernel void
vwe_sensors (global const int2  *chan,
             int                 n_channels,
             int                 sample,
             global const float *vx,
             global const float *vy,
             global const float *vz,
             global const float *sxx,
             global const float *syy,
             global const float *szz,
             global const float *sxy,
             global const float *sxz,
             global const float *syz,
             global float       *traces
             WB_PROBE_ARG)
{
  const int ch = get_global_id (0);

  if (ch >= n_channels)
    return;
#undef WB_PROBE_ID
#define WB_PROBE_ID ch
  WB_PROBE (1);
  const int2 cq = chan[ch];
  const int i = cq.x % NX, j = (cq.x / NX) % NY, k = cq.x / (NX * NY);
  float v = 0.0f;

  switch (cq.y)
    {
    case 0: v = 0.5f * (ld (vx, i - 1, j, k) + ld (vx, i, j, k)); break;
    case 1: v = 0.5f * (ld (vy, i, j - 1, k) + ld (vy, i, j, k)); break;
    case 2: v = 0.5f * (ld (vz, i, j, k - 1) + ld (vz, i, j, k)); break;
    case 3: v = sxx[cq.x]; break;
    case 4: v = syy[cq.x]; break;
    case 5: v = szz[cq.x]; break;
    case 6:
      v = 0.25f * (ld (sxy, i, j, k) + ld (sxy, i - 1, j, k)
                   + ld (sxy, i, j - 1, k) + ld (sxy, i - 1, j - 1, k));
      break;
    case 7:
      v = 0.25f * (ld (sxz, i, j, k) + ld (sxz, i - 1, j, k)
                   + ld (sxz, i, j, k - 1) + ld (sxz, i - 1, j, k - 1));
      break;
    case 8:
      v = 0.25f * (ld (syz, i, j, k) + ld (syz, i, j - 1, k)
                   + ld (syz, i, j, k - 1) + ld (syz, i, j - 1, k - 1));
      break;
    default:
#if DIM == 3
      v = -(sxx[cq.x] + syy[cq.x] + szz[cq.x]) / 3.0f;
#else
      v = -0.5f * (sxx[cq.x] + syy[cq.x]);
#endif
      break;
    }
  traces[(size_t) sample * n_channels + ch] = v;
}
