/* wb-vwe-private.h: what the viscoelastic wave solver's files share.
 *
 * wb-vwe.c parses and validates the preset into a VweConfig (materials with
 * their relaxed and unrelaxed moduli, the per-cell material map, sources as
 * lists of cells with weights and delays, sensor channels, PML profile) and
 * runs the OpenCL path; wb-vwe-ref.c is the independent C reference that
 * starts from the same VweConfig (the physical description) but computes
 * everything else on its own.
 *
 * Grid conventions (both backends, docs/presets.md "vwe"): cell (i, j, k)
 * has its centre at (i h, j h, k h).  Normal stresses and the material live
 * at cell centres; Vx at (i+1/2, j, k), Vy at (i, j+1/2, k), Vz at
 * (i, j, k+1/2); Sigma_xy at (i+1/2, j+1/2, k), Sigma_xz at (i+1/2, j,
 * k+1/2), Sigma_yz at (i, j+1/2, k+1/2).  Array element (i, j, k) of a
 * staggered field is the node nearest above cell (i, j, k).  Values outside
 * the grid are zero, except along periodic axes, which wrap.
 */
#pragma once

#include <glib.h>
#include "wb-sim.h"

G_BEGIN_DECLS

/* Fourth-order staggered first-derivative coefficients. */
#define VWE_C1 (9.0 / 8.0)
#define VWE_C2 (-1.0 / 24.0)

/* Quantities a sensor can record, in this order everywhere (kernel ids). */
typedef enum
{
  VWE_Q_VX, VWE_Q_VY, VWE_Q_VZ,
  VWE_Q_SXX, VWE_Q_SYY, VWE_Q_SZZ,
  VWE_Q_SXY, VWE_Q_SXZ, VWE_Q_SYZ,
  VWE_Q_PRESSURE,
  VWE_N_QUANTITIES
} VweQuantity;

extern const char * const vwe_quantity_names[VWE_N_QUANTITIES + 1];

typedef struct
{
  char   *name;
  double  rho;            /* kg/m^3 */
  double  cL, cS;         /* m/s, phase speeds at the centre frequency */
  double  alphaL, alphaS; /* Np/m at the centre frequency */
  /* Standard linear solid with stress relaxation time tau_sigma = 1/omega0
   * shared by all materials: unrelaxed (high-frequency) and relaxed moduli
   * of P (lambda + 2 mu) and S (mu) waves.  Lossless: U == R. */
  double  piU, piR, muU, muR;
} VweMaterial;

typedef enum { VWE_SRC_VELOCITY, VWE_SRC_PRESSURE } VweSourceKind;

typedef struct
{
  gsize  cell;            /* linear cell index */
  double delay;           /* seconds */
  double w[3];            /* velocity: amplitude times direction per axis;
                             pressure: w[0] = amplitude.  Add mode includes
                             the 2 c dt / h injection scale. */
} VwePoint;

typedef struct
{
  VweSourceKind kind;
  gboolean      impose;
  GArray       *points;   /* VwePoint, one per distinct cell */
  /* The signal (unit amplitude) sampled every half step: table[m] is the
   * value at t = m dt / 2.  Beyond the table the signal is 0. */
  float        *table;
  guint         n_table;
} VweSource;

typedef struct
{
  gsize       cell;
  VweQuantity quantity;
  char       *name;       /* "sensor 2 Pressure" */
} VweChannel;

typedef struct
{
  guint        ndim;
  gsize        n[3];             /* nz = 1 in 2D */
  gsize        n_cells;
  double       h;
  double       dt;
  double       dt_bound;
  guint64      steps;
  double       f0;               /* centre frequency, Hz */
  double       tau_sigma;        /* 1 / (2 pi f0) */

  GPtrArray   *materials;        /* VweMaterial* */
  guint8      *map;              /* n_cells material indices */
  gboolean     attenuation;      /* any material lossy */
  gboolean     maps;             /* record peak and RMS pressure maps */

  guint        pml_cells;        /* N, per non-periodic axis */
  double       pml_reflection;
  gboolean     periodic[3];
  double       c_max;            /* largest unrelaxed P speed */

  GPtrArray   *sources;          /* VweSource* */
  GArray      *channels;         /* VweChannel */
  guint        sensor_every;

  char        *display_field;
} VweConfig;

VweConfig *vwe_config_parse (const WbPreset *preset,
                             GError      **error);
void       vwe_config_free  (VweConfig    *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VweConfig, vwe_config_free)

/* Slab width of the PML along @axis (0 when periodic or unused). */
guint      vwe_config_pml_width (const VweConfig *config,
                                 guint            axis);

/* Number of trace samples the run records (one at t = 0, then one every
 * sensor_every steps up to the planned number of steps). */
guint      vwe_config_n_samples (const VweConfig *config);

/* The reference backend. */
typedef struct _VweRef VweRef;

VweRef    *vwe_ref_new        (const VweConfig *config);
void       vwe_ref_free       (VweRef          *ref);
void       vwe_ref_step       (VweRef          *ref);
/* Fills @out (n_cells floats) with field @name; FALSE if unknown. */
gboolean   vwe_ref_read_field (VweRef          *ref,
                               const char      *name,
                               float           *out);
/* Traces recorded so far: *n_samples samples of each channel, sample-major
 * (values[s * n_channels + c]).  Borrowed. */
const float *vwe_ref_traces   (VweRef          *ref,
                               guint           *n_samples);

G_END_DECLS
