/* wb-bhte.c: the Pennes bioheat solver with CEM43 thermal dose.
 *
 *   rho c dT/dt = div(k grad T) - w_b rho_b c_b (T - T_a) + Q
 *
 * explicit in time, 7-point Laplacian with the conductivity of the cell
 * (the BabelBrain form, PHYSICS.md), fixed temperature on the outer faces.
 * Two backends:
 *
 *  - OpenCL (kernels/bhte.cl): one launch per step, T_in -> T_out with the
 *    CEM43 dose update fused in, the source switched by a per-launch factor
 *    from the sonication timeline; nothing waits on the host per step.
 *  - reference: plain C in double precision over threads, written for
 *    clarity; it is the oracle the tests compare the kernel with.
 *
 * The preset schema is documented in docs/presets.md; every member is read
 * through WbObj so that messages name the JSON path.
 */
#define G_LOG_DOMAIN "wb-bhte"
#include "config.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "wb-error.h"
#include "wb-io.h"
#include "wb-launch.h"
#include "wb-npy.h"
#include "wb-sim.h"
#include "wb-tune.h"

#define BHTE_MAX_MATERIALS 256
#define BHTE_MAX_DIM 65535

/* --- parameters ---------------------------------------------------- */

typedef struct
{
  char    *name;
  double   density;        /* kg/m^3 */
  double   heat_capacity;  /* J/kg/K */
  double   conductivity;   /* W/m/K */
  double   perfusion;      /* ml/min/kg */
  double   absorption;     /* Np/m */
  double   sound_speed;    /* m/s, 0 when unknown */
} BhteMaterial;

/* Defaults by name.  Heat capacity, conductivity and perfusion are the
 * PHYSICS.md table (BabelBrain).  Densities and sound speeds: water and
 * skin/brain as in the ITRUSST transcranial benchmark (Aubry et al. 2022),
 * skull as in BabelBrain's simple skull mask (cortical 1896.5 kg/m^3, c =
 * 2416 + 120 f; trabecular 1738 kg/m^3, c = 2063 + 282 f, at f = 0.5 MHz).
 * Absorptions are indicative values at 500 kHz (skin 0.2, brain 0.6,
 * cortical 4, trabecular 8 dB/cm/MHz); set them for your frequency. */
static const BhteMaterial default_materials[] = {
  { (char *) "water",           1000.0, 4178.0, 0.60,   0.0, 0.0,  1500.0 },
  { (char *) "skin",            1090.0, 3391.0, 0.37, 106.0, 1.15, 1610.0 },
  { (char *) "cortical_bone",   1896.5, 1313.0, 0.32,  10.0, 23.0, 2476.0 },
  { (char *) "trabecular_bone", 1738.0, 2274.0, 0.31,  30.0, 46.0, 2204.0 },
  { (char *) "brain",           1040.0, 3630.0, 0.51, 559.0, 3.45, 1560.0 },
};

typedef enum
{
  BHTE_SOURCE_NONE,
  BHTE_SOURCE_UNIFORM,
  BHTE_SOURCE_FOCUSED,
  BHTE_SOURCE_PRESSURE,
} BhteSourceType;

typedef struct
{
  double   duration;   /* s */
  gboolean on;
  double   duty_cycle; /* 0..1 */
} BhteSegment;

typedef struct
{
  gsize           shape[3];
  double          h;
  double          dt;
  guint64         steps;

  double          body_temperature;
  double          initial_temperature;
  double          boundary_temperature;
  double          blood_temperature;
  double          blood_density;
  double          blood_heat_capacity;

  GArray         *materials;          /* BhteMaterial */
  guint           background;
  guint8         *map;                /* per cell material index, or NULL */

  gboolean        has_initial;
  double          initial_amplitude;
  double          initial_width;
  double          initial_centre[3];

  BhteSourceType  source;
  double          uniform_power;      /* W/m^3 */
  double          focus_centre[3];    /* m */
  double          focus_widths[3];    /* m, 1/e half-widths */
  double          focus_peak;         /* W/m^3 */
  WbNpyArray     *pressure;           /* Pa, amplitude */
  double          pressure_scale;

  GArray         *timeline;           /* BhteSegment, or NULL: always on */

  guint           display_field;      /* index into the field names */
} BhteParams;

static void
bhte_params_clear (BhteParams *p)
{
  if (p->materials)
    {
      for (guint m = 0; m < p->materials->len; m++)
        g_free (g_array_index (p->materials, BhteMaterial, m).name);
      g_array_unref (p->materials);
    }
  g_clear_pointer (&p->map, g_free);
  g_clear_pointer (&p->pressure, wb_npy_array_free);
  g_clear_pointer (&p->timeline, g_array_unref);
  memset (p, 0, sizeof *p);
}

static gsize
bhte_n_cells (const BhteParams *p)
{
  return p->shape[0] * p->shape[1] * p->shape[2];
}

static inline gboolean
is_boundary (const gsize *shape,
             gsize        i,
             gsize        j,
             gsize        k)
{
  return i == 0 || j == 0 || k == 0 ||
         i == shape[0] - 1 || j == shape[1] - 1 || k == shape[2] - 1;
}

/* Perfusion rate in 1/s: blood volume per tissue mass and second times the
 * blood's volumetric heat capacity, over the tissue's heat capacity per
 * mass (the tissue density cancels, PHYSICS.md). */
static double
perfusion_rate (const BhteParams   *p,
                const BhteMaterial *m)
{
  return m->perfusion / 60.0 * 1e-6 * p->blood_density * p->blood_heat_capacity / m->heat_capacity;
}

/* Rounds @x down to 3 significant digits, strictly below @x, so that a
 * suggested bound is itself accepted. */
static double
round_down_3 (double x)
{
  double scale = pow (10.0, floor (log10 (x)) - 2.0);
  double r = floor (x / scale) * scale;

  if (r >= x)
    r -= scale;
  return r;
}

/* The material's geometric region helpers take cell-centre coordinates:
 * cell (i, j, k) sits at (i h, j h, k h). */

static gboolean
lookup_material (const BhteParams *p,
                 const char       *path,
                 const char       *name,
                 guint            *out,
                 GError          **error)
{
  g_autoptr(GString) list = g_string_new (NULL);

  for (guint m = 0; m < p->materials->len; m++)
    {
      const BhteMaterial *mat = &g_array_index (p->materials, BhteMaterial, m);
      if (g_str_equal (mat->name, name))
        {
          *out = m;
          return TRUE;
        }
      g_string_append_printf (list, "%s%s", m ? ", " : "", mat->name);
    }
  g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
               "%s: unknown material '%s' (materials: %s)", path, name, list->str);
  return FALSE;
}

static gboolean
parse_material (BhteParams *p,
                WbObj      *root,
                JsonArray  *array,
                guint       index,
                gboolean    pressure_source,
                GError    **error)
{
  JsonNode *node = json_array_get_element (array, index);
  BhteMaterial mat = { 0 };
  const BhteMaterial *def = NULL;
  g_autoptr(WbObj) o = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = g_strdup_printf ("materials[%u]", index);

  /* A bare string is a default material by name. */
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    name = g_strdup (json_node_get_string (node));
  else
    {
      o = wb_obj_array_element (root, "materials", array, index, error);
      if (o == NULL || !wb_obj_get_string (o, "name", TRUE, NULL, &name, error))
        return FALSE;
    }
  if (*name == '\0' || strlen (name) > 64)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s.name: must be 1 to 64 characters", path);
      return FALSE;
    }
  for (guint m = 0; m < p->materials->len; m++)
    if (g_str_equal (g_array_index (p->materials, BhteMaterial, m).name, name))
      {
        g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                     "%s.name: material '%s' is already defined as materials[%u]",
                     path, name, m);
        return FALSE;
      }
  for (guint d = 0; d < G_N_ELEMENTS (default_materials); d++)
    if (g_str_equal (default_materials[d].name, name))
      def = &default_materials[d];

  if (def)
    mat = *def;
  else
    {
      mat.perfusion = 0.0;
      mat.absorption = 0.0;
      mat.sound_speed = 0.0;
    }
  mat.name = NULL;

  if (o == NULL)
    {
      if (def == NULL)
        {
          g_autoptr(GString) list = g_string_new (NULL);
          for (guint d = 0; d < G_N_ELEMENTS (default_materials); d++)
            g_string_append_printf (list, "%s%s", d ? ", " : "", default_materials[d].name);
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "%s: '%s' has no default properties (defaults exist for %s); "
                       "give an object with name, density, heat_capacity and conductivity",
                       path, name, list->str);
          return FALSE;
        }
    }
  else
    {
      gboolean need = def == NULL;
      if (!wb_obj_get_double (o, "density", need, 1.0, 1e5, &mat.density, error) ||
          !wb_obj_get_double (o, "heat_capacity", need, 1.0, 1e5, &mat.heat_capacity, error) ||
          !wb_obj_get_double (o, "conductivity", need, 0.0, 1e4, &mat.conductivity, error) ||
          !wb_obj_get_double (o, "perfusion", FALSE, 0.0, 1e5, &mat.perfusion, error) ||
          !wb_obj_get_double (o, "absorption", FALSE, 0.0, 1e6, &mat.absorption, error) ||
          !wb_obj_get_double (o, "sound_speed", FALSE, 1.0, 1e5, &mat.sound_speed, error) ||
          !wb_obj_finish (o, error))
        return FALSE;
    }
  if (pressure_source && mat.sound_speed <= 0.0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s.sound_speed: required for material '%s' with a 'pressure' source",
                   path, name);
      return FALSE;
    }
  mat.name = g_steal_pointer (&name);
  g_array_append_val (p->materials, mat);
  return TRUE;
}

static gboolean
parse_materials (BhteParams *p,
                 WbObj      *root,
                 gboolean    pressure_source,
                 GError    **error)
{
  JsonArray *array = NULL;
  guint n;

  if (!wb_obj_get_array (root, "materials", TRUE, &array, error))
    return FALSE;
  n = json_array_get_length (array);
  if (n == 0 || n > BHTE_MAX_MATERIALS)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "materials: needs 1 to %d materials, got %u", BHTE_MAX_MATERIALS, n);
      return FALSE;
    }
  for (guint m = 0; m < n; m++)
    if (!parse_material (p, root, array, m, pressure_source, error))
      return FALSE;
  return TRUE;
}

/* Checks bh = k dt/(rho c h^2) < 1/6 for every material, naming the worst. */
static gboolean
check_stability (const BhteParams *p,
                 GError          **error)
{
  double worst = -1.0;
  guint worst_m = 0;

  for (guint m = 0; m < p->materials->len; m++)
    {
      const BhteMaterial *mat = &g_array_index (p->materials, BhteMaterial, m);
      double bh = mat->conductivity * p->dt / (mat->density * mat->heat_capacity * p->h * p->h);
      double perf = perfusion_rate (p, mat) * p->dt;

      if (bh > worst)
        {
          worst = bh;
          worst_m = m;
        }
      /* Forward Euler on the perfusion term alone overshoots past T_a
       * once w dt >= 1; no realistic perfusion gets there, but a typo can. */
      if (perf >= 1.0)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_UNSTABLE,
                       "time.dt = %g s is unstable for material '%s': perfusion rate * dt = %.3g >= 1; "
                       "use dt <= %.3g s", p->dt, mat->name, perf,
                       round_down_3 (p->dt / perf));
          return FALSE;
        }
    }
  if (worst >= 1.0 / 6.0)
    {
      const BhteMaterial *mat = &g_array_index (p->materials, BhteMaterial, worst_m);
      double bound = mat->density * mat->heat_capacity * p->h * p->h / (6.0 * mat->conductivity);
      g_set_error (error, WB_ERROR, WB_ERROR_UNSTABLE,
                   "time.dt = %g s is unstable for material '%s' at h = %g m: "
                   "k dt/(rho c h^2) = %.3g >= 1/6; use dt <= %.3g s",
                   p->dt, mat->name, p->h, worst, round_down_3 (bound));
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_shape_common (BhteParams  *p,
                    WbObj       *o,
                    guint       *material,
                    GError     **error)
{
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;

  if (!wb_obj_get_string (o, "material", TRUE, NULL, &name, error))
    return FALSE;
  path = g_strdup_printf ("%s.material", wb_obj_path (o));
  return lookup_material (p, path, name, material, error);
}

/* Paints layers, then boxes, then spheres, each list in order, over the
 * map (@map NULL: parse and check only). */
static gboolean
parse_regions (BhteParams *p,
               WbObj      *root,
               guint8     *map,
               GError    **error)
{
  static const char * const axes[] = { "x", "y", "z", NULL };
  const double h = p->h;
  JsonArray *array = NULL;

  if (!wb_obj_get_array (root, "layers", FALSE, &array, error))
    return FALSE;
  for (guint e = 0; array && e < json_array_get_length (array); e++)
    {
      g_autoptr(WbObj) o = wb_obj_array_element (root, "layers", array, e, error);
      g_autofree char *axis = NULL;
      double from = -G_MAXDOUBLE, to = G_MAXDOUBLE;
      guint m, a;

      if (o == NULL || !parse_shape_common (p, o, &m, error) ||
          !wb_obj_get_string (o, "axis", TRUE, axes, &axis, error) ||
          !wb_obj_get_double (o, "from", FALSE, -1e3, 1e3, &from, error) ||
          !wb_obj_get_double (o, "to", FALSE, -1e3, 1e3, &to, error) ||
          !wb_obj_finish (o, error))
        return FALSE;
      if (to <= from)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "%s: 'to' (%g m) must be greater than 'from' (%g m)",
                       wb_obj_path (o), to, from);
          return FALSE;
        }
      a = axis[0] - 'x';
      if (map == NULL)
        continue;
      for (gsize k = 0; k < p->shape[2]; k++)
        for (gsize j = 0; j < p->shape[1]; j++)
          for (gsize i = 0; i < p->shape[0]; i++)
            {
              gsize idx[3] = { i, j, k };
              double x = idx[a] * h;
              if (x >= from && x < to)
                map[i + p->shape[0] * (j + p->shape[1] * k)] = m;
            }
    }

  if (!wb_obj_get_array (root, "boxes", FALSE, &array, error))
    return FALSE;
  for (guint e = 0; array && e < json_array_get_length (array); e++)
    {
      g_autoptr(WbObj) o = wb_obj_array_element (root, "boxes", array, e, error);
      double lo[3], hi[3];
      guint m;

      if (o == NULL || !parse_shape_common (p, o, &m, error) ||
          !wb_obj_get_doubles (o, "min", TRUE, 3, -1e3, 1e3, lo, error) ||
          !wb_obj_get_doubles (o, "max", TRUE, 3, -1e3, 1e3, hi, error) ||
          !wb_obj_finish (o, error))
        return FALSE;
      for (guint a = 0; a < 3; a++)
        if (hi[a] <= lo[a])
          {
            g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                         "%s: max[%u] (%g m) must be greater than min[%u] (%g m)",
                         wb_obj_path (o), a, hi[a], a, lo[a]);
            return FALSE;
          }
      if (map == NULL)
        continue;
      for (gsize k = 0; k < p->shape[2]; k++)
        for (gsize j = 0; j < p->shape[1]; j++)
          for (gsize i = 0; i < p->shape[0]; i++)
            {
              double x = i * h, y = j * h, z = k * h;
              if (x >= lo[0] && x < hi[0] && y >= lo[1] && y < hi[1] && z >= lo[2] && z < hi[2])
                map[i + p->shape[0] * (j + p->shape[1] * k)] = m;
            }
    }

  if (!wb_obj_get_array (root, "spheres", FALSE, &array, error))
    return FALSE;
  for (guint e = 0; array && e < json_array_get_length (array); e++)
    {
      g_autoptr(WbObj) o = wb_obj_array_element (root, "spheres", array, e, error);
      double c[3], r = 0.0;
      guint m;

      if (o == NULL || !parse_shape_common (p, o, &m, error) ||
          !wb_obj_get_doubles (o, "centre", TRUE, 3, -1e3, 1e3, c, error) ||
          !wb_obj_get_double (o, "radius", TRUE, 0.0, 1e3, &r, error) ||
          !wb_obj_finish (o, error))
        return FALSE;
      if (map == NULL)
        continue;
      for (gsize k = 0; k < p->shape[2]; k++)
        for (gsize j = 0; j < p->shape[1]; j++)
          for (gsize i = 0; i < p->shape[0]; i++)
            {
              double dx = i * h - c[0], dy = j * h - c[1], dz = k * h - c[2];
              if (dx * dx + dy * dy + dz * dz <= r * r)
                map[i + p->shape[0] * (j + p->shape[1] * k)] = m;
            }
    }
  return TRUE;
}

static char *
format_shape (const gsize *shape,
              guint        ndim)
{
  GString *s = g_string_new ("(");

  for (guint d = 0; d < ndim; d++)
    g_string_append_printf (s, "%s%" G_GSIZE_FORMAT, d ? ", " : "", shape[d]);
  if (ndim == 1)
    g_string_append_c (s, ',');
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

/* Loads an .npy whose shape must be the grid's exactly. */
static WbNpyArray *
load_grid_npy (const WbPreset   *preset,
               const BhteParams *p,
               const char       *path,
               const char       *file,
               GError          **error)
{
  g_autofree char *resolved = wb_preset_resolve_path (preset, file);
  g_autoptr(GError) local = NULL;
  g_autoptr(WbNpyArray) a = wb_npy_read (resolved, &local);
  gboolean match;

  if (a == NULL)
    {
      int code = local->domain == WB_ERROR ? local->code
               : g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? WB_ERROR_NOT_FOUND
               : WB_ERROR_INVALID;
      g_set_error (error, WB_ERROR, code, "%s: %s", path, local->message);
      return NULL;
    }
  match = a->ndim == 3;
  for (guint d = 0; d < 3 && match; d++)
    match = a->shape[d] == p->shape[d];
  if (!match)
    {
      g_autofree char *got = format_shape (a->shape, a->ndim);
      g_autofree char *want = format_shape (p->shape, 3);
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s: '%s' has shape %s but grid.shape is %s",
                   path, file, got, want);
      return NULL;
    }
  return g_steal_pointer (&a);
}

static gboolean
parse_labels (const WbPreset *preset,
              BhteParams     *p,
              const char     *file,
              guint8         *map,
              GError        **error)
{
  g_autoptr(WbNpyArray) a = load_grid_npy (preset, p, "labels", file, error);
  gsize n = bhte_n_cells (p);

  if (a == NULL)
    return FALSE;
  for (gsize c = 0; c < n; c++)
    {
      double v = a->data[c];
      if (!(v >= 0.0 && v < p->materials->len && v == floor (v)))
        {
          gsize i = c % p->shape[0], j = (c / p->shape[0]) % p->shape[1];
          gsize k = c / (p->shape[0] * p->shape[1]);
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "labels: value %g at cell (%" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT ", %"
                       G_GSIZE_FORMAT ") of '%s' is not a material index (0 to %u)",
                       v, i, j, k, file, p->materials->len - 1);
          return FALSE;
        }
      if (map)
        map[c] = (guint8) v;
    }
  return TRUE;
}

static gboolean
parse_source (const WbPreset *preset,
              BhteParams     *p,
              WbObj          *src,
              GError        **error)
{
  static const char * const types[] = { "none", "uniform", "focused", "pressure", NULL };
  g_autofree char *type = NULL;

  p->source = BHTE_SOURCE_NONE;
  if (src == NULL)
    return TRUE;
  if (!wb_obj_get_string (src, "type", TRUE, types, &type, error))
    return FALSE;
  if (g_str_equal (type, "uniform"))
    {
      p->source = BHTE_SOURCE_UNIFORM;
      if (!wb_obj_get_double (src, "power_density", TRUE, 0.0, 1e12, &p->uniform_power, error))
        return FALSE;
    }
  else if (g_str_equal (type, "focused"))
    {
      p->source = BHTE_SOURCE_FOCUSED;
      for (guint a = 0; a < 3; a++)
        p->focus_centre[a] = (p->shape[a] - 1) * p->h / 2.0;
      if (!wb_obj_get_doubles (src, "centre", FALSE, 3, -1e3, 1e3, p->focus_centre, error) ||
          !wb_obj_get_doubles (src, "widths", TRUE, 3, 1e-9, 1e3, p->focus_widths, error) ||
          !wb_obj_get_double (src, "peak_power_density", TRUE, 0.0, 1e12, &p->focus_peak, error))
        return FALSE;
    }
  else if (g_str_equal (type, "pressure"))
    {
      g_autofree char *file = NULL;

      p->source = BHTE_SOURCE_PRESSURE;
      p->pressure_scale = 1.0;
      if (!wb_obj_get_string (src, "file", TRUE, NULL, &file, error) ||
          !wb_obj_get_double (src, "pressure_scale", FALSE, 0.0, 1e6, &p->pressure_scale, error))
        return FALSE;
      p->pressure = load_grid_npy (preset, p, "source.file", file, error);
      if (p->pressure == NULL)
        return FALSE;
      for (gsize c = 0; c < bhte_n_cells (p); c++)
        if (!isfinite (p->pressure->data[c]) || fabs (p->pressure->data[c]) > 1e9)
          {
            g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                         "source.file: '%s' holds %g at element %" G_GSIZE_FORMAT
                         ", not a pressure amplitude in Pa", file, p->pressure->data[c], c);
            return FALSE;
          }
    }
  return wb_obj_finish (src, error);
}

static gboolean
parse_timeline (BhteParams *p,
                WbObj      *root,
                GError    **error)
{
  JsonArray *array = NULL;

  if (!wb_obj_get_array (root, "timeline", FALSE, &array, error))
    return FALSE;
  if (array == NULL)
    return TRUE;
  if (json_array_get_length (array) == 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "timeline: needs at least one segment (leave it out for a source always on)");
      return FALSE;
    }
  p->timeline = g_array_new (FALSE, TRUE, sizeof (BhteSegment));
  for (guint e = 0; e < json_array_get_length (array); e++)
    {
      g_autoptr(WbObj) o = wb_obj_array_element (root, "timeline", array, e, error);
      BhteSegment seg = { 0.0, TRUE, 1.0 };

      if (o == NULL ||
          !wb_obj_get_double (o, "duration", TRUE, 1e-9, 1e9, &seg.duration, error) ||
          !wb_obj_get_bool (o, "on", FALSE, &seg.on, error) ||
          !wb_obj_get_double (o, "duty_cycle", FALSE, 0.0, 1.0, &seg.duty_cycle, error) ||
          !wb_obj_finish (o, error))
        return FALSE;
      if (!seg.on && wb_obj_has (o, "duty_cycle"))
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "%s.duty_cycle: given for a segment that is off", wb_obj_path (o));
          return FALSE;
        }
      g_array_append_val (p->timeline, seg);
    }
  return TRUE;
}

/* Host memory, to refuse grids that cannot fit before allocating them. */
static guint64
host_memory_bytes (void)
{
  long pages = sysconf (_SC_PHYS_PAGES);
  long page = sysconf (_SC_PAGESIZE);

  if (pages <= 0 || page <= 0)
    return G_MAXUINT64;
  return (guint64) pages * (guint64) page;
}

/* Refuses grids that cannot fit, up front and with the numbers, before
 * anything big is allocated. */
static gboolean
check_memory (const BhteParams *p,
              const WbDevice   *device,
              GError          **error)
{
  gsize n = bhte_n_cells (p);
  gboolean reference = wb_device_is_reference (device);
  gboolean has_source = p->source != BHTE_SOURCE_NONE;
  /* Reference: T twice and dose in double, the map, the source power.
   * OpenCL: on the host the map, the source and a float staging copy. */
  guint64 host = (guint64) n * (reference ? 3 * 8 + 1 + 4 : 1 + 4 + 4);
  guint64 have = host_memory_bytes ();
  g_autofree char *shape = g_strdup_printf ("grid.shape [%" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT
                                            ", %" G_GSIZE_FORMAT "] (%" G_GSIZE_FORMAT " cells)",
                                            p->shape[0], p->shape[1], p->shape[2], n);

  if (!reference)
    {
      /* T twice, dose, map, source */
      guint64 need = (guint64) n * (3 * 4 + 1 + (has_source ? 4 : 0));
      if (need > device->global_mem_size)
        {
          g_autofree char *s_need = g_format_size_full (need, G_FORMAT_SIZE_IEC_UNITS);
          g_autofree char *s_have = g_format_size_full (device->global_mem_size, G_FORMAT_SIZE_IEC_UNITS);
          g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                       "%s needs %s on %s (two temperature buffers, dose, material map%s), "
                       "which has %s of global memory",
                       shape, s_need, device->id, has_source ? ", source" : "", s_have);
          return FALSE;
        }
    }
  if (host > have)
    {
      g_autofree char *s_need = g_format_size_full (host, G_FORMAT_SIZE_IEC_UNITS);
      g_autofree char *s_have = g_format_size_full (have, G_FORMAT_SIZE_IEC_UNITS);
      g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                   "%s needs %s of host memory on the %s backend; this machine has %s",
                   shape, s_need, reference ? "reference" : "OpenCL", s_have);
      return FALSE;
    }
  return TRUE;
}

/* Reads and checks the whole preset.  With a @device (NULL: validation
 * only), checks that the grid fits it and fills p->map. */
static gboolean
bhte_parse (const WbPreset *preset,
            BhteParams     *p,
            const WbDevice *device,
            GError        **error)
{
  static const char * const fields[] = { "T", "dose", "Q", "material", NULL };
  g_autoptr(WbObj) root = NULL;
  g_autoptr(WbObj) grid = NULL;
  g_autoptr(WbObj) time = NULL;
  g_autoptr(WbObj) display = NULL;
  g_autoptr(WbObj) blood = NULL;
  g_autoptr(WbObj) initial = NULL;
  g_autoptr(WbObj) source = NULL;
  g_autofree char *solver = NULL;
  g_autofree char *title = NULL;
  g_autofree char *description = NULL;
  g_autofree char *field = NULL;
  g_autofree char *background = NULL;
  g_autofree char *labels = NULL;
  gint64 shape[3], steps = 0;
  gboolean pressure_source = FALSE;

  memset (p, 0, sizeof *p);
  p->materials = g_array_new (FALSE, TRUE, sizeof (BhteMaterial));

  root = wb_obj_new (preset->root, "", error);
  if (root == NULL)
    return FALSE;
  if (!wb_obj_get_string (root, "solver", TRUE, NULL, &solver, error) ||
      !wb_obj_get_string (root, "title", FALSE, NULL, &title, error) ||
      !wb_obj_get_string (root, "description", FALSE, NULL, &description, error))
    return FALSE;
  if (!g_str_equal (solver, "bhte"))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "solver: expected 'bhte', got '%s'", solver);
      return FALSE;
    }

  /* grid */
  if (!wb_obj_get_obj (root, "grid", TRUE, &grid, error) ||
      !wb_obj_get_ints (grid, "shape", TRUE, 3, 3, BHTE_MAX_DIM, shape, error) ||
      !wb_obj_get_double (grid, "spacing", TRUE, 1e-7, 10.0, &p->h, error) ||
      !wb_obj_finish (grid, error))
    return FALSE;
  for (guint a = 0; a < 3; a++)
    p->shape[a] = (gsize) shape[a];

  /* time */
  if (!wb_obj_get_obj (root, "time", TRUE, &time, error) ||
      !wb_obj_get_double (time, "dt", TRUE, 1e-9, 1e6, &p->dt, error) ||
      !wb_obj_get_int (time, "steps", TRUE, 0, G_GINT64_CONSTANT (1000000000000), &steps, error) ||
      !wb_obj_finish (time, error))
    return FALSE;
  p->steps = (guint64) steps;

  /* display */
  if (!wb_obj_get_obj (root, "display", FALSE, &display, error))
    return FALSE;
  if (display &&
      (!wb_obj_get_string (display, "field", FALSE, fields, &field, error) ||
       !wb_obj_finish (display, error)))
    return FALSE;
  for (guint f = 0; field && fields[f]; f++)
    if (g_str_equal (field, fields[f]))
      p->display_field = f;

  /* temperatures */
  p->body_temperature = 37.0;
  if (!wb_obj_get_double (root, "body_temperature", FALSE, 0.0, 100.0, &p->body_temperature, error))
    return FALSE;
  p->initial_temperature = p->body_temperature;
  p->boundary_temperature = p->body_temperature;
  p->blood_temperature = p->body_temperature;
  p->blood_density = 1050.0;
  p->blood_heat_capacity = 3617.0;
  if (!wb_obj_get_double (root, "initial_temperature", FALSE, 0.0, 100.0,
                          &p->initial_temperature, error) ||
      !wb_obj_get_double (root, "boundary_temperature", FALSE, 0.0, 100.0,
                          &p->boundary_temperature, error) ||
      !wb_obj_get_obj (root, "blood", FALSE, &blood, error))
    return FALSE;
  if (blood &&
      (!wb_obj_get_double (blood, "temperature", FALSE, 0.0, 100.0, &p->blood_temperature, error) ||
       !wb_obj_get_double (blood, "density", FALSE, 1.0, 1e5, &p->blood_density, error) ||
       !wb_obj_get_double (blood, "heat_capacity", FALSE, 1.0, 1e5, &p->blood_heat_capacity, error) ||
       !wb_obj_finish (blood, error)))
    return FALSE;

  /* The source type decides whether materials need a sound speed. */
  if (!wb_obj_get_obj (root, "source", FALSE, &source, error))
    return FALSE;
  if (source)
    {
      JsonNode *t = wb_obj_get_node (source, "type");
      const char *ts = t && JSON_NODE_HOLDS_VALUE (t) &&
                       json_node_get_value_type (t) == G_TYPE_STRING ? json_node_get_string (t) : NULL;
      pressure_source = ts && g_str_equal (ts, "pressure");
      /* Provisional, for the memory check; parse_source sets the real one. */
      if (ts && !g_str_equal (ts, "none"))
        p->source = BHTE_SOURCE_UNIFORM;
    }

  /* materials and the map */
  if (!parse_materials (p, root, pressure_source, error))
    return FALSE;
  if (!wb_obj_get_string (root, "background", FALSE, NULL, &background, error) ||
      !wb_obj_get_string (root, "labels", FALSE, NULL, &labels, error))
    return FALSE;
  if (background && labels)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "background and labels exclude each other: the label map sets every cell");
      return FALSE;
    }
  if (background && !lookup_material (p, "background", background, &p->background, error))
    return FALSE;
  if (!check_stability (p, error))
    return FALSE;

  if (device)
    {
      if (!check_memory (p, device, error))
        return FALSE;
      p->map = g_malloc (bhte_n_cells (p));
      memset (p->map, p->background, bhte_n_cells (p));
    }
  if (labels && !parse_labels (preset, p, labels, p->map, error))
    return FALSE;
  if (!parse_regions (p, root, p->map, error))
    return FALSE;

  /* initial Gaussian */
  if (!wb_obj_get_obj (root, "initial", FALSE, &initial, error))
    return FALSE;
  if (initial)
    {
      p->has_initial = TRUE;
      for (guint a = 0; a < 3; a++)
        p->initial_centre[a] = (p->shape[a] - 1) * p->h / 2.0;
      if (!wb_obj_get_double (initial, "amplitude", TRUE, -100.0, 100.0, &p->initial_amplitude, error) ||
          !wb_obj_get_double (initial, "width", TRUE, 1e-9, 1e3, &p->initial_width, error) ||
          !wb_obj_get_doubles (initial, "centre", FALSE, 3, -1e3, 1e3, p->initial_centre, error) ||
          !wb_obj_finish (initial, error))
        return FALSE;
    }

  if (!parse_source (preset, p, source, error) ||
      !parse_timeline (p, root, error))
    return FALSE;
  if (p->timeline && p->source == BHTE_SOURCE_NONE)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "timeline: given without a source (add \"source\" or remove the timeline)");
      return FALSE;
    }
  return wb_obj_finish (root, error);
}

/* Fraction of full power over [t0, t1]: the time average of the timeline,
 * so a step that straddles a segment edge gets exactly the energy the
 * timeline asks for.  After the last segment the source is off. */
static double
timeline_factor (const BhteParams *p,
                 double            t0,
                 double            t1)
{
  double start = 0.0, acc = 0.0;

  if (p->source == BHTE_SOURCE_NONE)
    return 0.0;
  if (p->timeline == NULL)
    return 1.0;
  for (guint s = 0; s < p->timeline->len; s++)
    {
      const BhteSegment *seg = &g_array_index (p->timeline, BhteSegment, s);
      double end = start + seg->duration;
      double overlap = MIN (t1, end) - MAX (t0, start);
      if (overlap > 0.0 && seg->on)
        acc += overlap * seg->duty_cycle;
      start = end;
    }
  return acc / (t1 - t0);
}

/* Power density in W/m^3 at full power, per cell. */
static float *
make_power (const BhteParams *p)
{
  gsize n = bhte_n_cells (p);
  float *q = g_new0 (float, n);

  for (gsize k = 0; k < p->shape[2]; k++)
    for (gsize j = 0; j < p->shape[1]; j++)
      for (gsize i = 0; i < p->shape[0]; i++)
        {
          gsize c = i + p->shape[0] * (j + p->shape[1] * k);
          const BhteMaterial *m = &g_array_index (p->materials, BhteMaterial, p->map[c]);
          double v = 0.0;

          switch (p->source)
            {
            case BHTE_SOURCE_NONE:
              break;
            case BHTE_SOURCE_UNIFORM:
              v = p->uniform_power;
              break;
            case BHTE_SOURCE_FOCUSED:
              {
                double x[3] = { i * p->h, j * p->h, k * p->h }, e = 0.0;
                for (guint a = 0; a < 3; a++)
                  {
                    double u = (x[a] - p->focus_centre[a]) / p->focus_widths[a];
                    e += u * u;
                  }
                v = p->focus_peak * exp (-e);
              }
              break;
            case BHTE_SOURCE_PRESSURE:
              {
                /* Q = alpha p^2/(rho c) for a pressure amplitude p: twice
                 * alpha times the mean intensity p^2/(2 rho c). */
                double pa = p->pressure->data[c] * p->pressure_scale;
                v = m->absorption * pa * pa / (m->density * m->sound_speed);
              }
              break;
            default:
              g_assert_not_reached ();
            }
          q[c] = (float) v;
        }
  return q;
}

/* --- the simulation object ------------------------------------------ */

/* The kernels the tuner chooses among (kernels/bhte.cl). */
typedef struct
{
  const char *variant;   /* the tuning name */
  const char *kernel;
  guint       vec;       /* cells per work-item along x */
  gboolean    zmarch;    /* walks columns of param cells along z */
  gboolean    lds;       /* takes local tiles as its last arguments */
  guint       steps;     /* time steps per launch */
} BhteKernelInfo;

static const BhteKernelInfo bhte_kernels[] = {
  { "cell",       "bhte_step",       1, FALSE, FALSE, 1 },
  { "zmarch",     "bhte_zmarch",     1, TRUE,  FALSE, 1 },
  { "zmarch_v2",  "bhte_zmarch_v2",  2, TRUE,  FALSE, 1 },
  { "zmarch_v4",  "bhte_zmarch_v4",  4, TRUE,  FALSE, 1 },
  { "zmarch_lds", "bhte_zmarch_lds", 1, TRUE,  TRUE,  1 },
  /* two steps per launch; its local size names the tile, the work-group
   * is the tile with a one-cell ring, (LX + 2) x (LY + 2) */
  { "zmarch2",    "bhte_zmarch2",    1, TRUE,  TRUE,  2 },
};
G_STATIC_ASSERT (G_N_ELEMENTS (bhte_kernels) == 6);

/* A build of bhte.cl with code-generation options, named by suffixes of
 * the tuning variant: ".u1" z loops not unrolled (BHTE_UNROLL1), ".rN" at
 * most N registers per work-item (NVIDIA's -cl-nv-maxrregcount). */
typedef struct
{
  guint      unroll1;
  guint      maxrreg;
  cl_program program;
  cl_kernel  k[G_N_ELEMENTS (bhte_kernels)];  /* NULL where the file lacks one */
} BhteBuild;

static void
bhte_build_free (BhteBuild *b)
{
  if (b == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (b->k); i++)
    WB_CL_RELEASE (b->k[i], clReleaseKernel);
  WB_CL_RELEASE (b->program, clReleaseProgram);
  g_free (b);
}

typedef struct
{
  WbSim       parent;
  BhteParams  p;

  float      *power;     /* W/m^3 at full power, per cell */

  /* reference backend */
  double     *T;
  double     *T_next;
  double     *dose;      /* minutes */

  /* OpenCL backend */
  cl_program  program;
  cl_kernel   kernel;
  cl_mem      T_buf[2];
  cl_mem      dose_buf;
  cl_mem      map_buf;
  cl_mem      q_buf;
  cl_mem      bh_buf;
  cl_mem      perf_buf;
  guint       cur;       /* T_buf[cur] holds the current temperature */
  gsize       local[3];
  gboolean    use_local;
  WbKernelDebug *dbg;    /* kernel debugging state (wb-launch.h) */
  /* The tuned launch (wb-tune.h): builds of bhte.cl, the first from
   * s->program, the others with code-generation options made while
   * tuning (only the chosen one's is kept), and the choice.  Debugging
   * launches s->kernel through s->dbg instead. */
  BhteBuild   *builds[16];  /* [0] from s->program, the others made for tuning */
  guint        n_builds;
  BhteBuild   *use;         /* the chosen kernel's build */
  guint        fast_index;  /* the chosen kernel in bhte_kernels */
  WbTuneChoice choice;
  char        *defines;     /* the build's #define lines */
  gboolean     nv_options;  /* the device takes -cl-nv-* options */
  gboolean     sweep_log;   /* print the registers of every build (sweeps) */
} BhteSim;



static const char *bhte_field_names[] = { "T", "dose", "Q", "material", NULL };

static void
bhte_free (WbSim *sim)
{
  BhteSim *s = (BhteSim *) sim;

  WB_CL_RELEASE (s->kernel, clReleaseKernel);
  for (guint i = 0; i < s->n_builds; i++)
    g_clear_pointer (&s->builds[i], bhte_build_free);
  g_free (s->defines);
  WB_CL_RELEASE (s->program, clReleaseProgram);
  WB_CL_RELEASE (s->T_buf[0], clReleaseMemObject);
  WB_CL_RELEASE (s->T_buf[1], clReleaseMemObject);
  WB_CL_RELEASE (s->dose_buf, clReleaseMemObject);
  WB_CL_RELEASE (s->map_buf, clReleaseMemObject);
  WB_CL_RELEASE (s->q_buf, clReleaseMemObject);
  WB_CL_RELEASE (s->bh_buf, clReleaseMemObject);
  WB_CL_RELEASE (s->perf_buf, clReleaseMemObject);
  g_clear_pointer (&s->dbg, wb_kernel_debug_free);
  g_clear_pointer (&s->T, g_free);
  g_clear_pointer (&s->T_next, g_free);
  g_clear_pointer (&s->dose, g_free);
  g_clear_pointer (&s->power, g_free);
  bhte_params_clear (&s->p);
  /* wb_sim_free leaves the whole object to the class. */
  g_clear_pointer (&sim->cl, wb_cl_context_unref);
  g_clear_pointer (&sim->device, wb_device_unref);
  g_clear_pointer (&sim->preset, wb_preset_free);
  g_free (s);
}

/* Initial temperature of cell (i, j, k). */
static double
initial_temperature (const BhteParams *p,
                     gsize             i,
                     gsize             j,
                     gsize             k)
{
  double x[3] = { i * p->h, j * p->h, k * p->h }, r2 = 0.0;

  if (is_boundary (p->shape, i, j, k))
    return p->boundary_temperature;
  if (!p->has_initial)
    return p->initial_temperature;
  for (guint a = 0; a < 3; a++)
    r2 += (x[a] - p->initial_centre[a]) * (x[a] - p->initial_centre[a]);
  return p->initial_temperature +
         p->initial_amplitude * exp (-r2 / (p->initial_width * p->initial_width));
}

/* --- reference backend ---------------------------------------------- */

/* Integral in seconds of R^(43 - T) over @dur while T goes linearly from a
 * to b, with one R for the whole segment. */
static double
ref_dose_segment (double a,
                  double b,
                  double dur,
                  double R)
{
  double lnR = log (R);
  double fa = exp (lnR * (43.0 - a));
  double fb = exp (lnR * (43.0 - b));
  double d = (b - a) * lnR;

  /* f = fa exp(-d s/dur): the integral is dur (fb - fa)/(-d); for tiny d
   * that cancels, and the trapezoid is exact to O(d^2) ~ 1e-16. */
  if (fabs (d) < 1e-8)
    return dur * 0.5 * (fa + fb);
  return dur * (fb - fa) / -d;
}

/* CEM43 minutes over one step with T linear from T0 to T1; a step that
 * crosses 43 C is split where T = 43 so each part has its own R. */
static double
ref_cem43_step (double T0,
                double T1,
                double dt)
{
  gboolean hot0 = T0 >= 43.0, hot1 = T1 >= 43.0;
  double seconds;

  if (hot0 == hot1)
    seconds = ref_dose_segment (T0, T1, dt, hot0 ? 0.5 : 0.25);
  else
    {
      double tc = dt * (43.0 - T0) / (T1 - T0);
      seconds = ref_dose_segment (T0, 43.0, tc, hot0 ? 0.5 : 0.25) +
                ref_dose_segment (43.0, T1, dt - tc, hot1 ? 0.5 : 0.25);
    }
  return seconds / 60.0;
}

typedef struct
{
  BhteSim *s;
  double   factor;
  double   diffusion[BHTE_MAX_MATERIALS];   /* k/(rho c h^2), 1/s */
  double   perfusion[BHTE_MAX_MATERIALS];   /* 1/s */
  double   inv_rho_c[BHTE_MAX_MATERIALS];   /* m^3 K/J */
} RefStep;

static void
ref_step_planes (gsize    k_begin,
                 gsize    k_end,
                 gpointer user_data)
{
  RefStep *r = user_data;
  BhteSim *s = r->s;
  const BhteParams *p = &s->p;
  const gsize nx = p->shape[0], ny = p->shape[1];
  const double dt = p->dt, Ta = p->blood_temperature;

  for (gsize k = k_begin; k < k_end; k++)
    for (gsize j = 0; j < ny; j++)
      for (gsize i = 0; i < nx; i++)
        {
          gsize c = i + nx * (j + ny * k);
          double T = s->T[c], Tn;

          if (is_boundary (p->shape, i, j, k))
            Tn = T;
          else
            {
              guint m = p->map[c];
              double lap = s->T[c - 1] + s->T[c + 1] +
                           s->T[c - nx] + s->T[c + nx] +
                           s->T[c - nx * ny] + s->T[c + nx * ny] - 6.0 * T;
              double dTdt = r->diffusion[m] * lap +
                            r->perfusion[m] * (Ta - T) +
                            r->factor * s->power[c] * r->inv_rho_c[m];
              Tn = T + dt * dTdt;
            }
          s->T_next[c] = Tn;
          s->dose[c] += ref_cem43_step (T, Tn, dt);
        }
}

static gboolean
ref_step (BhteSim *s,
          guint    n,
          GError **error)
{
  WbSim *sim = &s->parent;
  const BhteParams *p = &s->p;
  RefStep *r = g_new0 (RefStep, 1);

  r->s = s;
  for (guint m = 0; m < p->materials->len; m++)
    {
      const BhteMaterial *mat = &g_array_index (p->materials, BhteMaterial, m);
      r->diffusion[m] = mat->conductivity / (mat->density * mat->heat_capacity * p->h * p->h);
      r->perfusion[m] = perfusion_rate (p, mat);
      r->inv_rho_c[m] = 1.0 / (mat->density * mat->heat_capacity);
    }
  for (guint s_i = 0; s_i < n; s_i++)
    {
      double *tmp;
      double t0 = sim->step * p->dt;

      r->factor = timeline_factor (p, t0, t0 + p->dt);
      wb_parallel_for (p->shape[2], ref_step_planes, r);
      tmp = s->T;
      s->T = s->T_next;
      s->T_next = tmp;
      sim->step++;
    }
  g_free (r);
  return TRUE;
}

static gboolean
ref_init (BhteSim *s,
          GError **error)
{
  const BhteParams *p = &s->p;
  gsize n = bhte_n_cells (p);

  s->T = g_try_new (double, n);
  s->T_next = g_try_new (double, n);
  s->dose = g_try_new0 (double, n);
  if (!s->T || !s->T_next || !s->dose)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                   "could not allocate %.1f MiB for the reference backend's state",
                   n * 24.0 / 1048576.0);
      return FALSE;
    }
  for (gsize k = 0; k < p->shape[2]; k++)
    for (gsize j = 0; j < p->shape[1]; j++)
      for (gsize i = 0; i < p->shape[0]; i++)
        s->T[i + p->shape[0] * (j + p->shape[1] * k)] = initial_temperature (p, i, j, k);
  return TRUE;
}

/* --- OpenCL backend -------------------------------------------------- */

static char *
float_literal (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* %.9g round-trips a float; the C locale keeps the decimal point. */
  g_ascii_formatd (buf, sizeof buf, "%.9g", (float) v);
  if (!strpbrk (buf, ".eEn"))
    return g_strdup_printf ("%s.0f", buf);
  return g_strdup_printf ("%sf", buf);
}

/* --- tuned launches ---------------------------------------------------- */

static int
bhte_kernel_index (const char *variant)
{
  for (guint i = 0; i < G_N_ELEMENTS (bhte_kernels); i++)
    if (g_str_equal (bhte_kernels[i].variant, variant))
      return (int) i;
  return -1;
}

/* "zmarch2.u1.r64": the kernel's index and the build options. */
static gboolean
bhte_parse_variant (const char *variant,
                    int        *idx,
                    guint      *unroll1,
                    guint      *maxrreg)
{
  g_auto(GStrv) parts = g_strsplit (variant, ".", -1);

  *unroll1 = 0;
  *maxrreg = 0;
  *idx = parts[0] ? bhte_kernel_index (parts[0]) : -1;
  if (*idx < 0)
    return FALSE;
  for (guint i = 1; parts[i]; i++)
    {
      guint64 v;

      if (g_str_equal (parts[i], "u1"))
        *unroll1 = 1;
      else if (parts[i][0] == 'r' && g_ascii_string_to_unsigned (parts[i] + 1, 10, 16, 255, &v, NULL))
        *maxrreg = (guint) v;
      else
        return FALSE;
    }
  return TRUE;
}

static gboolean
bhte_build_kernels (BhteSim   *s,
                    BhteBuild *b,
                    GError   **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (bhte_kernels); i++)
    {
      /* A kernel file from an override directory may predate a variant:
       * that one is then not a candidate. */
      cl_int status = CL_SUCCESS;
      cl_kernel k = clCreateKernel (b->program, bhte_kernels[i].kernel, &status);

      if (status != CL_SUCCESS)
        continue;
      b->k[i] = k;
      if (s->sweep_log)
        {
          size_t wg = 0, multiple = 0;
          cl_ulong lmem = 0, pmem = 0;
          cl_device_id dev = s->parent.device->device;

          clGetKernelWorkGroupInfo (k, dev, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
          clGetKernelWorkGroupInfo (k, dev, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE, sizeof multiple,
                                    &multiple, NULL);
          clGetKernelWorkGroupInfo (k, dev, CL_KERNEL_LOCAL_MEM_SIZE, sizeof lmem, &lmem, NULL);
          clGetKernelWorkGroupInfo (k, dev, CL_KERNEL_PRIVATE_MEM_SIZE, sizeof pmem, &pmem, NULL);
          g_printerr ("bhte kernel %-16s u%u r%-3u CL_KERNEL_WORK_GROUP_SIZE %zu, preferred multiple %zu, "
                      "local %" G_GUINT64_FORMAT " B, private %" G_GUINT64_FORMAT " B\n",
                      bhte_kernels[i].kernel, b->unroll1, b->maxrreg, (size_t) wg, (size_t) multiple,
                      (guint64) lmem, (guint64) pmem);
        }
      if (!wb_cl_set_arg (k, 2, sizeof (cl_mem), &s->dose_buf, error) ||
          !wb_cl_set_arg (k, 3, sizeof (cl_mem), &s->map_buf, error) ||
          !wb_cl_set_arg (k, 4, sizeof (cl_mem), &s->q_buf, error) ||
          !wb_cl_set_arg (k, 5, sizeof (cl_mem), &s->bh_buf, error) ||
          !wb_cl_set_arg (k, 6, sizeof (cl_mem), &s->perf_buf, error))
        return FALSE;
    }
  return TRUE;
}

/* For sweeps on NVIDIA: each kernel's registers and spills, from the
 * compiler's log of a -cl-nv-verbose build. */
static void
bhte_print_registers (BhteSim    *s,
                      cl_program  program,
                      const char *what)
{
  WbSim *sim = &s->parent;
  size_t size = 0;
  g_autofree char *log = NULL;
  g_auto(GStrv) lines = NULL;

  clGetProgramBuildInfo (program, sim->device->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &size);
  if (size == 0)
    return;
  log = g_malloc0 (size + 1);
  clGetProgramBuildInfo (program, sim->device->device, CL_PROGRAM_BUILD_LOG, size, log, NULL);
  lines = g_strsplit (log, "\n", -1);
  /* ptxas prints, per kernel: "Compiling entry function 'NAME'", a
   * line with the spills, "Used N registers, ...": one line each here. */
  {
    g_autofree char *name = NULL;
    g_autofree char *spill = NULL;

    for (guint i = 0; lines[i]; i++)
      {
        const char *l = g_strstrip (lines[i]);
        const char *q = strstr (l, "entry function '");

        if (q)
          {
            g_free (name);
            name = g_strndup (q + 16, strcspn (q + 16, "'"));
          }
        else if (strstr (l, "spill"))
          {
            g_free (spill);
            spill = g_strdup (l);
          }
        else if (strstr (l, "Used ") && name)
          g_printerr ("bhte build %-22s %-16s %s; %s\n", what, name, strstr (l, "Used "), spill ? spill : "");
      }
  }
}

/* The build with these options, made on first use. */
static BhteBuild *
bhte_build_get (BhteSim  *s,
                guint     unroll1,
                guint     maxrreg,
                GError  **error)
{
  WbSim *sim = &s->parent;
  g_autofree char *defines = NULL;
  g_autofree char *options = NULL;
  g_autofree char *cap = maxrreg ? g_strdup_printf ("-cl-nv-maxrregcount=%u", maxrreg) : g_strdup ("");
  BhteBuild *b;

  for (guint i = 0; i < s->n_builds; i++)
    if (s->builds[i] && s->builds[i]->unroll1 == unroll1 && s->builds[i]->maxrreg == maxrreg)
      return s->builds[i];
  if (maxrreg > 0 && !s->nv_options)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "a register cap (.r%u) needs a device with cl_nv_compiler_options", maxrreg);
      return NULL;
    }
  if (s->n_builds == G_N_ELEMENTS (s->builds))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "too many builds of bhte.cl with other options");
      return NULL;
    }
  defines = g_strconcat (s->defines, unroll1 ? "#define BHTE_UNROLL1 1\n" : "", NULL);
  if (maxrreg > 0 || (s->sweep_log && s->nv_options))
    options = g_strdup_printf ("%s %s", cap, s->sweep_log && s->nv_options ? "-cl-nv-verbose" : "");
  b = g_new0 (BhteBuild, 1);
  b->unroll1 = unroll1;
  b->maxrreg = maxrreg;
  b->program = wb_cl_build_program (sim->cl, "bhte.cl", defines, options, error);
  if (b->program == NULL || !bhte_build_kernels (s, b, error))
    {
      bhte_build_free (b);
      return NULL;
    }
  if (s->sweep_log && s->nv_options)
    {
      g_autofree char *name = g_strdup_printf ("[%s%s]", unroll1 ? "u1 " : "", cap);
      bhte_print_registers (s, b->program, name);
    }
  s->builds[s->n_builds++] = b;
  return b;
}

/* Checks that @choice can launch here and gives its build and kernel: a
 * kernel of that name, a column length for the z-marching ones, a
 * work-group within the kernel's limit. */
static gboolean
bhte_choice_resolve (BhteSim            *s,
                     const WbTuneChoice *choice,
                     BhteBuild         **build,
                     int                *index,
                     GError            **error)
{
  WbSim *sim = &s->parent;
  int idx;
  guint unroll1, maxrreg;
  size_t wg = 0;
  gsize items = choice->local[0] * choice->local[1] * choice->local[2];
  BhteBuild *b = NULL;

  if (!bhte_parse_variant (choice->variant, &idx, &unroll1, &maxrreg))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "bhte has no kernel variant '%s' (cell, zmarch, zmarch_v2, zmarch_v4, zmarch_lds, zmarch2; "
                   "options .u1, .rN)", choice->variant);
      return FALSE;
    }
  b = bhte_build_get (s, unroll1, maxrreg, error);
  if (b == NULL)
    return FALSE;
  if (b->k[idx] == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "bhte has no kernel variant '%s' here (its kernel file lacks %s)",
                   choice->variant, bhte_kernels[idx].kernel);
      return FALSE;
    }
  if (bhte_kernels[idx].zmarch && choice->param == 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "bhte variant %s needs a column length (VARIANT:LXxLYx1:ZC)", choice->variant);
      return FALSE;
    }
  if (bhte_kernels[idx].zmarch && choice->local[2] > 1)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "bhte variant %s takes work-groups of LXxLYx1", choice->variant);
      return FALSE;
    }
  if (bhte_kernels[idx].lds && choice->local[0] == 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "bhte variant %s needs a work-group size for its tile", choice->variant);
      return FALSE;
    }
  if (bhte_kernels[idx].steps == 2)
    items = (choice->local[0] + 2) * (choice->local[1] + 2);
  clGetKernelWorkGroupInfo (b->k[idx], sim->device->device, CL_KERNEL_WORK_GROUP_SIZE,
                            sizeof wg, &wg, NULL);
  /* Sweeps try it anyway: the launch's own error is the driver's word
   * (the H200 reported 256 for bhte_zmarch2 at 45 registers). */
  if (choice->local[0] > 0 && wg > 0 && items > wg && !s->sweep_log)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "work-group of %" G_GSIZE_FORMAT " exceeds CL_KERNEL_WORK_GROUP_SIZE %" G_GSIZE_FORMAT
                   " of %s", items, (gsize) wg, bhte_kernels[idx].kernel);
      return FALSE;
    }
  *build = b;
  *index = idx;
  return TRUE;
}

/* Launches the tuned kernel @idx as @choice says, T_buf[@from] to the
 * other buffer, with the timeline's factors of its steps (@factor2 for a
 * two-step kernel's second). */
static gboolean
bhte_fast_enqueue (BhteSim            *s,
                   BhteBuild          *b,
                   guint               idx,
                   const WbTuneChoice *choice,
                   guint               from,
                   float               factor,
                   float               factor2,
                   cl_event           *event,
                   GError            **error)
{
  WbSim *sim = &s->parent;
  const BhteKernelInfo *info = &bhte_kernels[idx];
  cl_kernel k = b->k[idx];
  gsize cells[3];
  gsize local[3];
  gboolean has_local = choice->local[0] > 0;

  memcpy (local, choice->local, sizeof local);
  cells[0] = (s->p.shape[0] + info->vec - 1) / info->vec;
  cells[1] = s->p.shape[1];
  cells[2] = s->p.shape[2];
  if (info->zmarch)
    {
      cl_int zc = (cl_int) choice->param;

      cells[2] = (s->p.shape[2] + choice->param - 1) / choice->param;
      local[2] = has_local ? 1 : 0;
      if (!wb_cl_set_arg (k, 8, sizeof zc, &zc, error))
        return FALSE;
      if (info->steps == 2)
        {
          /* The grid of tiles, each a work-group with its ring. */
          for (guint d = 0; d < 2; d++)
            {
              cells[d] = (s->p.shape[d] + local[d] - 1) / local[d] * (local[d] + 2);
              local[d] += 2;
            }
          if (!wb_cl_set_arg (k, 9, sizeof factor2, &factor2, error) ||
              !wb_cl_set_arg (k, 10, 2 * (local[0] + 2) * (local[1] + 2) * sizeof (float), NULL, error) ||
              !wb_cl_set_arg (k, 11, 2 * local[0] * local[1] * sizeof (float), NULL, error))
            return FALSE;
        }
      else if (info->lds &&
               !wb_cl_set_arg (k, 9, 2 * (local[0] + 2) * (local[1] + 2) * sizeof (float), NULL, error))
        return FALSE;
    }
  return wb_cl_set_arg (k, 0, sizeof (cl_mem), &s->T_buf[from], error)
         && wb_cl_set_arg (k, 1, sizeof (cl_mem), &s->T_buf[1 - from], error)
         && wb_cl_set_arg (k, 7, sizeof (float), &factor, error)
         && wb_cl_enqueue (sim->cl, k, 3, cells, has_local ? local : NULL, NULL, event, error);
}

/* wb-tune's measurement: a warm-up launch and five timed ones, T_buf[0]
 * to T_buf[1] (the dose accumulates; cl_init resets both afterwards). */
static gboolean
bhte_tune_measure (const WbTuneChoice *choice,
                   double             *seconds,
                   gpointer            user_data,
                   GError            **error)
{
  BhteSim *s = user_data;
  cl_event events[6] = { NULL };
  double times[5];
  gboolean ok = TRUE;
  BhteBuild *b;
  int idx;

  if (!bhte_choice_resolve (s, choice, &b, &idx, error))
    return FALSE;
  for (guint r = 0; r < G_N_ELEMENTS (events) && ok; r++)
    ok = bhte_fast_enqueue (s, b, idx, choice, 0, 1.0f, 1.0f, &events[r], error);
  ok = wb_cl_finish (s->parent.cl, ok ? error : NULL) && ok;
  for (guint r = 0; r < G_N_ELEMENTS (events); r++)
    {
      if (ok && r > 0)
        times[r - 1] = wb_cl_event_seconds (events[r]);
      if (events[r])
        clReleaseEvent (events[r]);
    }
  if (!ok)
    return FALSE;
  /* Per step, so that two-step kernels compare fairly. */
  *seconds = wb_tune_median (times, G_N_ELEMENTS (times)) / bhte_kernels[idx].steps;
  return TRUE;
}

static void
add_candidate (GArray     *c,
               const char *variant,
               gsize       lx,
               gsize       ly,
               gsize       lz,
               guint       zc)
{
  WbTuneChoice t;

  memset (&t, 0, sizeof t);
  g_strlcpy (t.variant, variant, sizeof t.variant);
  t.local[0] = lx;
  t.local[1] = ly;
  t.local[2] = lx ? lz : 0;
  t.param = zc;
  g_array_append_val (c, t);
}

/* The candidates, the default first.
 *
 * GPUs: the cell kernel at 64 x 4 (today's choice) and 128 x 2, then the
 * shapes and column lengths that led the H200 sweep (docs/performance.md):
 * x-contiguous groups of 64 to 128 work-items one or two rows high,
 * columns of 8 or 16 cells, with and without unrolled z loops, and the
 * two-step kernel.  WAVEBENCH_BHTE_SWEEP selects a wider list for
 * measuring sweeps: "full" (every kernel at seven shapes and ZC 8 to 64),
 * "opts" (the leaders with code-generation options: .u1, register caps
 * on NVIDIA), "zmarch2" (the two-step kernel's tiles and options).
 *
 * CPU devices: the implementation's work-group for the cell kernel first
 * (PoCL vectorises it along x), then one of each kernel. */
static GArray *
bhte_candidates (BhteSim *s)
{
  static const gsize z_local[][2] = { { 32, 4 }, { 32, 8 }, { 64, 2 }, { 64, 4 }, { 128, 1 }, { 128, 2 }, { 256, 1 } };
  static const gsize z2_local[][2] = { { 30, 6 }, { 30, 14 }, { 62, 6 }, { 62, 14 }, { 126, 2 }, { 126, 6 }, { 30, 30 } };
  static const guint z_len[] = { 8, 16, 32, 64 };
  GArray *c = g_array_new (FALSE, TRUE, sizeof (WbTuneChoice));
  const char *sweep = g_getenv ("WAVEBENCH_BHTE_SWEEP");
  const char *cap_opts[] = { "", ".u1", ".r32", ".r40", ".r48", ".r64", ".u1.r40", ".u1.r64" };
  /* Register caps changed nothing on the H200 (45 to 56 registers): two
   * option sets are enough to see it again. */
  const char *z2_opts[] = { "", ".u1", ".r64" };
  guint n_opts = s->nv_options ? G_N_ELEMENTS (cap_opts) : 2;

  G_STATIC_ASSERT (G_N_ELEMENTS (z_local) == G_N_ELEMENTS (z2_local));
  if (sweep == NULL)
    sweep = "";
  if (s->parent.device->kind == WB_DEVICE_KIND_CPU)
    {
      add_candidate (c, "cell", 0, 0, 0, 0);
      add_candidate (c, "cell", 64, 4, 1, 0);
      add_candidate (c, "zmarch", 0, 0, 0, 16);
      add_candidate (c, "zmarch_v4", 0, 0, 0, 16);
      add_candidate (c, "zmarch_v4", 16, 4, 1, 16);
      add_candidate (c, "zmarch_lds", 64, 4, 1, 16);
      add_candidate (c, "zmarch2", 30, 6, 1, 16);
      return c;
    }
  add_candidate (c, "cell", 64, 4, 1, 0);
  if (g_str_equal (sweep, "full"))
    {
      static const gsize cell_local[][3] = { { 32, 8, 1 }, { 128, 2, 1 }, { 256, 1, 1 }, { 32, 4, 2 } };

      for (guint i = 0; i < G_N_ELEMENTS (cell_local); i++)
        add_candidate (c, "cell", cell_local[i][0], cell_local[i][1], cell_local[i][2], 0);
      for (guint v = 1; v < G_N_ELEMENTS (bhte_kernels); v++)
        for (guint l = 0; l < G_N_ELEMENTS (z_local); l++)
          for (guint z = 0; z < G_N_ELEMENTS (z_len); z++)
            {
              /* Two-step tiles: the work-group is the tile plus its ring,
               * whole warps along x. */
              const gsize (*shape)[2] = bhte_kernels[v].steps == 2 ? z2_local : z_local;

              add_candidate (c, bhte_kernels[v].variant, shape[l][0], shape[l][1], 1, z_len[z]);
            }
      return c;
    }
  if (g_str_equal (sweep, "opts"))
    {
      static const struct { const char *v; gsize lx, ly; } lead[] = {
        { "zmarch_v2", 128, 1 }, { "zmarch_v2", 64, 2 }, { "zmarch_v2", 32, 4 },
        { "zmarch_v4", 64, 2 }, { "zmarch_v4", 32, 4 }, { "zmarch", 128, 1 }, { "zmarch", 64, 2 },
      };
      for (guint o = 0; o < n_opts; o++)
        for (guint i = 0; i < G_N_ELEMENTS (lead); i++)
          for (guint z = 8; z <= 16; z *= 2)
            {
              g_autofree char *v = g_strconcat (lead[i].v, cap_opts[o], NULL);
              add_candidate (c, v, lead[i].lx, lead[i].ly, 1, z);
            }
      return c;
    }
  if (g_str_equal (sweep, "zmarch2"))
    {
      static const gsize tiles[][2] = { { 30, 6 }, { 14, 14 }, { 62, 2 }, { 30, 14 }, { 62, 6 }, { 126, 2 }, { 30, 30 } };

      for (guint o = 0; o < (s->nv_options ? G_N_ELEMENTS (z2_opts) : 2); o++)
        for (guint i = 0; i < G_N_ELEMENTS (tiles); i++)
          for (guint z = 16; z <= 64; z *= 2)
            {
              g_autofree char *v = g_strconcat ("zmarch2", z2_opts[o], NULL);
              add_candidate (c, v, tiles[i][0], tiles[i][1], 1, z);
            }
      return c;
    }
  /* The default list (26 candidates). */
  add_candidate (c, "cell", 128, 2, 1, 0);
  for (guint z = 8; z <= 16; z *= 2)
    {
      add_candidate (c, "zmarch", 128, 1, 1, z);
      add_candidate (c, "zmarch", 64, 2, 1, z);
      add_candidate (c, "zmarch_v2", 128, 1, 1, z);
      add_candidate (c, "zmarch_v2", 64, 2, 1, z);
      add_candidate (c, "zmarch_v2", 32, 4, 1, z);
      add_candidate (c, "zmarch_v4", 64, 2, 1, z);
      add_candidate (c, "zmarch_v4", 32, 4, 1, z);
      add_candidate (c, "zmarch_v2.u1", 128, 1, 1, z);
      add_candidate (c, "zmarch_v2.u1", 64, 2, 1, z);
      add_candidate (c, "zmarch_v4.u1", 64, 2, 1, z);
    }
  /* Shorter columns: more work-groups per launch, so a smaller last wave
   * (at 256^3 about a tenth of a launch is its start and tail). */
  add_candidate (c, "zmarch_v2", 128, 1, 1, 4);
  add_candidate (c, "zmarch_v4", 64, 2, 1, 4);
  add_candidate (c, "zmarch_lds", 128, 1, 1, 16);
  add_candidate (c, "zmarch_lds", 64, 2, 1, 16);
  /* Two steps per launch: lost to the one-step kernels on the H200 (125
   * against 105 us per step at 256^3) before its halo was loaded a plane
   * ahead; measured again with WAVEBENCH_BHTE_SWEEP=zmarch2, and in the
   * default list only once it wins. */
  return c;
}

/* Creates the tuned kernels from s->program, chooses among them (measured
 * on the sim's buffers, then reset to the initial state) and keeps the
 * choice. */
static gboolean
bhte_tune (BhteSim  *s,
           GError  **error)
{
  WbSim *sim = &s->parent;
  const BhteParams *p = &s->p;
  g_autoptr(GArray) candidates = NULL;
  g_autofree char *key = NULL;
  WbTuneResult result;
  gsize n = bhte_n_cells (p);
  gboolean has_source = p->source != BHTE_SOURCE_NONE;

  {
    /* The first build, of s->program, serves the default options. */
    BhteBuild *b = g_new0 (BhteBuild, 1);

    s->nv_options = wb_device_has_extension (sim->device, "cl_nv_compiler_options");
    s->sweep_log = g_getenv ("WAVEBENCH_BHTE_SWEEP") != NULL;
    b->program = s->program;
    clRetainProgram (b->program);
    s->builds[s->n_builds++] = b;
    if (!bhte_build_kernels (s, b, error))
      return FALSE;
    if (s->sweep_log && s->nv_options)
      {
        /* The same source and options, verbose: its registers. */
        cl_program v = wb_cl_build_program (sim->cl, "bhte.cl", s->defines, "-cl-nv-verbose", NULL);
        if (v)
          {
            bhte_print_registers (s, v, "[default]");
            clReleaseProgram (v);
          }
      }
  }
  /* Without its own copy of the cell kernel the sim launches s->kernel
   * through the debug hooks (cl_step). */
  if (s->builds[0]->k[0] == NULL)
    return TRUE;

  candidates = bhte_candidates (s);
  key = g_strdup_printf ("bhte:%" G_GSIZE_FORMAT "x%" G_GSIZE_FORMAT "x%" G_GSIZE_FORMAT ":src%d",
                         p->shape[0], p->shape[1], p->shape[2], has_source ? 1 : 0);
  /* Timing ~30 candidates costs seconds on a CPU device, and PoCL's own
   * work-group choice for the cell kernel is already its best (it
   * vectorises along x): CPUs measure only when forced. */
  if (!wb_tune_choose (sim->device, key, (WbTuneChoice *) candidates->data, candidates->len,
                       FALSE, bhte_tune_measure, s, &result, error))
    return FALSE;
  s->choice = result.choice;
  /* A pinned or cached choice that cannot run here is an error the user
   * must see (a pin names a missing variant, say). */
  {
    int idx;

    if (!bhte_choice_resolve (s, &s->choice, &s->use, &idx, error))
      {
        g_prefix_error (error, "tuning %s: %s choice %s: ", key, result.source,
                        s->choice.variant);
        wb_tune_result_clear (&result);
        return FALSE;
      }
    s->fast_index = (guint) idx;
  }
  /* Keep the chosen build and the first (its cell kernel finishes odd
   * step counts of two-step kernels). */
  for (guint i = 1; i < s->n_builds; i++)
    if (s->builds[i] != s->use)
      g_clear_pointer (&s->builds[i], bhte_build_free);
  if (result.trials != NULL)
    {
      /* Measuring ran kernels: back to the initial state. */
      wb_tune_result_clear (&result);
      return wb_cl_check (clEnqueueCopyBuffer (sim->cl->queue, s->T_buf[0], s->T_buf[1], 0, 0,
                                               n * 4, 0, NULL, NULL),
                          "clEnqueueCopyBuffer (temperature)", error)
             && wb_cl_fill_float (sim->cl, s->dose_buf, 0.0f, n, error);
    }
  wb_tune_result_clear (&result);
  return TRUE;
}

static gboolean
cl_init (BhteSim     *s,
         const char  *kernel_dir,
         GError     **error)
{
  WbSim *sim = &s->parent;
  const BhteParams *p = &s->p;
  WbClContext *cl = sim->cl;
  gsize n = bhte_n_cells (p);
  guint nmat = p->materials->len;
  gboolean has_source = p->source != BHTE_SOURCE_NONE;
  g_autofree float *T0 = NULL;
  g_autofree float *bh = g_new0 (float, nmat);
  g_autofree float *perf = g_new0 (float, nmat);
  g_autofree char *t_blood = float_literal (p->blood_temperature);
  g_autofree char *dose_dt = float_literal (p->dt / 60.0);
  g_autofree char *defines = NULL;
  size_t wg = 0;

  if (kernel_dir)
    wb_cl_context_set_kernel_dir (cl, kernel_dir);
  defines = g_strdup_printf ("#define NX %" G_GSIZE_FORMAT "\n"
                             "#define NY %" G_GSIZE_FORMAT "\n"
                             "#define NZ %" G_GSIZE_FORMAT "\n"
                             "#define N_MAT %u\n"
                             "#define HAS_SOURCE %d\n"
                             "#define T_BLOOD %s\n"
                             "#define DOSE_DT %s\n"
                             "#define BHTE_IDX32 %d\n"
                             "#define WB_HW_EXP2 %d\n",
                             p->shape[0], p->shape[1], p->shape[2], nmat,
                             has_source ? 1 : 0, t_blood, dose_dt,
                             /* the z-marching kernels' indices reach a plane past the grid */
                             n + 2 * p->shape[0] * p->shape[1] < G_MAXINT32 ? 1 : 0,
                             /* the dose's powers of two: the hardware's on NVIDIA, the
                              * built-in on other GPUs, a polynomial that vectorises
                              * on CPUs (kernels/bhte.cl) */
                             sim->device->kind == WB_DEVICE_KIND_CPU ? 0
                             : wb_device_has_extension (sim->device, "cl_nv_compiler_options") ? 2 : 1);
  s->defines = g_strdup (defines);
  s->program = wb_cl_build_program (cl, "bhte.cl", defines, NULL, error);
  if (s->program == NULL)
    return FALSE;
  s->kernel = wb_cl_create_kernel (s->program, "bhte_step", error);
  if (s->kernel == NULL)
    return FALSE;

  for (guint m = 0; m < nmat; m++)
    {
      const BhteMaterial *mat = &g_array_index (p->materials, BhteMaterial, m);
      bh[m] = mat->conductivity * p->dt / (mat->density * mat->heat_capacity * p->h * p->h);
      perf[m] = perfusion_rate (p, mat) * p->dt;
    }

  T0 = g_try_new (float, n);
  if (T0 == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                   "could not allocate %.1f MiB on the host", n * 4.0 / 1048576.0);
      return FALSE;
    }
  for (gsize k = 0; k < p->shape[2]; k++)
    for (gsize j = 0; j < p->shape[1]; j++)
      for (gsize i = 0; i < p->shape[0]; i++)
        T0[i + p->shape[0] * (j + p->shape[1] * k)] = (float) initial_temperature (p, i, j, k);

  s->T_buf[0] = wb_cl_buffer_new (cl, CL_MEM_READ_WRITE, n * 4, NULL, "temperature", error);
  if (!s->T_buf[0])
    return FALSE;
  s->T_buf[1] = wb_cl_buffer_new (cl, CL_MEM_READ_WRITE, n * 4, NULL, "temperature (next)", error);
  if (!s->T_buf[1])
    return FALSE;
  s->dose_buf = wb_cl_buffer_new (cl, CL_MEM_READ_WRITE, n * 4, NULL, "dose", error);
  if (!s->dose_buf)
    return FALSE;
  s->map_buf = wb_cl_buffer_new (cl, CL_MEM_READ_ONLY, n, NULL, "material map", error);
  if (!s->map_buf)
    return FALSE;
  /* Without a source the kernel never reads q; a one-float stand-in keeps
   * the argument list the same. */
  s->q_buf = wb_cl_buffer_new (cl, CL_MEM_READ_ONLY, has_source ? n * 4 : 4, NULL, "source", error);
  if (!s->q_buf)
    return FALSE;
  s->bh_buf = wb_cl_buffer_new (cl, CL_MEM_READ_ONLY, nmat * 4, NULL, "conduction table", error);
  if (!s->bh_buf)
    return FALSE;
  s->perf_buf = wb_cl_buffer_new (cl, CL_MEM_READ_ONLY, nmat * 4, NULL, "perfusion table", error);
  if (!s->perf_buf)
    return FALSE;

  /* Both buffers start from the initial state, so that a cell a broken
   * kernel never writes keeps its initial value (the early-return
   * teaching presets) rather than whatever the allocation held. */
  if (!wb_cl_write (cl, s->T_buf[0], 0, n * 4, T0, error) ||
      !wb_cl_write (cl, s->T_buf[1], 0, n * 4, T0, error) ||
      !wb_cl_write (cl, s->map_buf, 0, n, p->map, error) ||
      !wb_cl_write (cl, s->bh_buf, 0, nmat * 4, bh, error) ||
      !wb_cl_write (cl, s->perf_buf, 0, nmat * 4, perf, error) ||
      !wb_cl_fill_float (cl, s->dose_buf, 0.0f, n, error))
    return FALSE;
  if (has_source)
    {
      /* Temperature rise per step at full power, Q dt/(rho c), reusing T0. */
      for (gsize c = 0; c < n; c++)
        {
          const BhteMaterial *mat = &g_array_index (p->materials, BhteMaterial, p->map[c]);
          T0[c] = (float) (s->power[c] * p->dt / (mat->density * mat->heat_capacity));
        }
      if (!wb_cl_write (cl, s->q_buf, 0, n * 4, T0, error))
        return FALSE;
    }

  if (!wb_cl_set_arg (s->kernel, 2, sizeof (cl_mem), &s->dose_buf, error) ||
      !wb_cl_set_arg (s->kernel, 3, sizeof (cl_mem), &s->map_buf, error) ||
      !wb_cl_set_arg (s->kernel, 4, sizeof (cl_mem), &s->q_buf, error) ||
      !wb_cl_set_arg (s->kernel, 5, sizeof (cl_mem), &s->bh_buf, error) ||
      !wb_cl_set_arg (s->kernel, 6, sizeof (cl_mem), &s->perf_buf, error))
    return FALSE;

  /* GPUs want x-contiguous groups of a warp's multiple; on CPU devices the
   * implementation's own choice vectorises along x and does better. */
  clGetKernelWorkGroupInfo (s->kernel, sim->device->device, CL_KERNEL_WORK_GROUP_SIZE,
                            sizeof wg, &wg, NULL);
  s->use_local = sim->device->kind != WB_DEVICE_KIND_CPU && wg >= 256;
  /* 64 x 4: two warps along x read whole cache lines; on an H200 at 256^3
   * the sizes from 32 x 4 to 256 x 1 are within 3% of each other. */
  s->local[0] = 64;
  s->local[1] = 4;
  s->local[2] = 1;
  {
    WbKernelConfig none = { 0 };
    s->dbg = wb_kernel_debug_new ("bhte.cl", "bhte_step", "T", defines, 3, p->shape,
                                  s->use_local ? s->local : NULL);
    wb_kernel_debug_commit (s->dbg, &none, s->kernel);
    /* Each step is one launch of one kernel: their times sum to the step's. */
    s->dbg->single_kernel = TRUE;
  }
  if (!bhte_tune (s, error))
    return FALSE;
  return wb_cl_finish (cl, error);
}

static gboolean
cl_step (BhteSim *s,
         guint    n,
         GError **error)
{
  WbSim *sim = &s->parent;
  const BhteParams *p = &s->p;
  /* The debugging tools look at the cell kernel's launches: with any of
   * them in effect that kernel runs, through the debug hooks, as before
   * the tuning existed. */
  gboolean debug = s->use == NULL || wb_kernel_debug_active (s->dbg);

  for (guint i = 0; i < n; )
    {
      double t0 = sim->step * p->dt;
      float factor = (float) timeline_factor (p, t0, t0 + p->dt);

      /* Arguments are captured at enqueue time, so the swap and the
       * factor need no host wait. */
      if (!debug && bhte_kernels[s->fast_index].steps == 2 && n - i >= 2)
        {
          float factor2 = (float) timeline_factor (p, t0 + p->dt, t0 + 2 * p->dt);

          if (!bhte_fast_enqueue (s, s->use, s->fast_index, &s->choice, s->cur, factor, factor2,
                                  wb_kernel_debug_event (s->dbg), error))
            return FALSE;
          s->cur = 1 - s->cur;
          sim->step += 2;
          i += 2;
          continue;
        }
      if (!debug && bhte_kernels[s->fast_index].steps == 2)
        {
          /* An odd step after pairs: the cell kernel at its default
           * work-group. */
          WbTuneChoice single = { "cell", { 0, 0, 0 }, 0 };

          if (s->use_local)
            memcpy (single.local, s->local, sizeof single.local);
          if (!bhte_fast_enqueue (s, s->builds[0], 0, &single, s->cur, factor, 0.0f,
                                  wb_kernel_debug_event (s->dbg), error))
            return FALSE;
        }
      else if (!debug)
        {
          if (!bhte_fast_enqueue (s, s->use, s->fast_index, &s->choice, s->cur, factor, 0.0f,
                                  wb_kernel_debug_event (s->dbg), error))
            return FALSE;
        }
      else if (!wb_cl_set_arg (s->kernel, 0, sizeof (cl_mem), &s->T_buf[s->cur], error) ||
          !wb_cl_set_arg (s->kernel, 1, sizeof (cl_mem), &s->T_buf[1 - s->cur], error) ||
          !wb_cl_set_arg (s->kernel, 7, sizeof (float), &factor, error) ||
          !wb_kernel_debug_sentinel (s->dbg, sim->cl, "T", s->T_buf[1 - s->cur],
                                     bhte_n_cells (p), error) ||
          !wb_kernel_debug_enqueue (s->dbg, sim->cl, error))
        return FALSE;
      s->cur = 1 - s->cur;
      sim->step++;
      i++;
    }
  return wb_cl_check (clFlush (sim->cl->queue), "clFlush", error);
}

/* --- class ----------------------------------------------------------- */

static gboolean
bhte_step (WbSim   *sim,
           guint    n,
           GError **error)
{
  BhteSim *s = (BhteSim *) sim;

  return sim->cl ? cl_step (s, n, error) : ref_step (s, n, error);
}

static gboolean
bhte_finish (WbSim   *sim,
             GError **error)
{
  return sim->cl ? wb_cl_finish (sim->cl, error) : TRUE;
}

static WbField *
bhte_read_field (WbSim      *sim,
                 const char *name,
                 GError    **error)
{
  BhteSim *s = (BhteSim *) sim;
  const BhteParams *p = &s->p;
  gsize n = bhte_n_cells (p);
  g_autoptr(WbField) f = NULL;
  double spacing[3] = { p->h, p->h, p->h };

  if (g_str_equal (name, "T"))
    {
      f = wb_field_new ("T", "degC", 3, p->shape, spacing);
      if (sim->cl)
        {
          if (!wb_cl_read (sim->cl, s->T_buf[s->cur], 0, n * 4, f->data, error))
            return NULL;
        }
      else
        for (gsize c = 0; c < n; c++)
          f->data[c] = (float) s->T[c];
    }
  else if (g_str_equal (name, "dose"))
    {
      f = wb_field_new ("dose", "CEM43 min", 3, p->shape, spacing);
      if (sim->cl)
        {
          if (!wb_cl_read (sim->cl, s->dose_buf, 0, n * 4, f->data, error))
            return NULL;
        }
      else
        for (gsize c = 0; c < n; c++)
          f->data[c] = (float) s->dose[c];
    }
  else if (g_str_equal (name, "Q"))
    {
      f = wb_field_new ("Q", "W/m^3", 3, p->shape, spacing);
      memcpy (f->data, s->power, n * sizeof (float));
    }
  else if (g_str_equal (name, "material"))
    {
      f = wb_field_new ("material", "", 3, p->shape, spacing);
      for (gsize c = 0; c < n; c++)
        f->data[c] = p->map[c];
    }
  else
    {
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND,
                   "bhte has no field '%s' (fields: T, dose, Q, material)", name);
      return NULL;
    }
  return g_steal_pointer (&f);
}

static cl_mem
bhte_field_buffer (WbSim      *sim,
                   const char *name)
{
  BhteSim *s = (BhteSim *) sim;

  if (sim->cl == NULL)
    return NULL;
  if (g_str_equal (name, "T"))
    return s->T_buf[s->cur];
  if (g_str_equal (name, "dose"))
    return s->dose_buf;
  return NULL;
}

/* Rebuilds the program for kernel debugging (wb-launch.h); the old
 * program keeps running when the new one does not build. */
static gboolean
bhte_configure (WbSim                *sim,
                const WbKernelConfig *config,
                GError              **error)
{
  BhteSim *s = (BhteSim *) sim;
  cl_program program = wb_kernel_debug_build (s->dbg, sim->cl, config, error);
  cl_kernel kernel = NULL;

  if (program == NULL)
    return FALSE;
  kernel = wb_cl_create_kernel (program, "bhte_step", error);
  if (kernel == NULL ||
      !wb_cl_set_arg (kernel, 2, sizeof (cl_mem), &s->dose_buf, error) ||
      !wb_cl_set_arg (kernel, 3, sizeof (cl_mem), &s->map_buf, error) ||
      !wb_cl_set_arg (kernel, 4, sizeof (cl_mem), &s->q_buf, error) ||
      !wb_cl_set_arg (kernel, 5, sizeof (cl_mem), &s->bh_buf, error) ||
      !wb_cl_set_arg (kernel, 6, sizeof (cl_mem), &s->perf_buf, error) ||
      !wb_kernel_debug_bind_probes (s->dbg, sim->cl, config, kernel, 8, error))
    {
      WB_CL_RELEASE (kernel, clReleaseKernel);
      clReleaseProgram (program);
      return FALSE;
    }
  WB_CL_RELEASE (s->kernel, clReleaseKernel);
  WB_CL_RELEASE (s->program, clReleaseProgram);
  s->program = program;
  s->kernel = kernel;
  wb_kernel_debug_commit (s->dbg, config, kernel);
  return TRUE;
}

static WbKernelDebug *
bhte_kernel_debug (WbSim *sim)
{
  return ((BhteSim *) sim)->dbg;
}

static const WbSimClass bhte_class = {
  .name = "bhte",
  .free = bhte_free,
  .step = bhte_step,
  .finish = bhte_finish,
  .read_field = bhte_read_field,
  .read_traces = NULL,
  .field_buffer = bhte_field_buffer,
  .configure = bhte_configure,
  .kernel_debug = bhte_kernel_debug,
};

WbSim *
wb_bhte_new (const WbPreset *preset,
             WbDevice       *device,
             const char     *kernel_dir,
             gboolean        validate_only,
             GError        **error)
{
  BhteSim *s;
  WbSim *sim;

  g_return_val_if_fail (preset != NULL, NULL);
  g_return_val_if_fail (validate_only || device != NULL, NULL);

  s = g_new0 (BhteSim, 1);
  sim = &s->parent;
  sim->klass = &bhte_class;
  sim->preset = wb_preset_copy (preset);
  sim->device = device ? wb_device_ref (device) : NULL;

  if (!bhte_parse (preset, &s->p, validate_only ? NULL : device, error))
    goto fail;

  sim->ndim = 3;
  for (guint a = 0; a < 3; a++)
    {
      sim->shape[a] = s->p.shape[a];
      sim->spacing[a] = s->p.h;
    }
  sim->dt = s->p.dt;
  sim->step = 0;
  sim->total_steps = s->p.steps;
  sim->field_names = bhte_field_names;
  /* the same order as the parser's list of display fields */
  sim->default_field = bhte_field_names[s->p.display_field];
  /* Minimal traffic per cell and step, each input read once and each
   * output written once: T read 4 + T write 4 + dose read 4 + dose write 4
   * + material 1, + source 4 when there is one = 17 or 21 bytes.
   * Flops, as the kernel computes them: 6 differences and 5 adds
   * (Laplacian), 2 for conduction, 3 for perfusion, 2 for the source;
   * about 40 for the dose's two powers of two (range reduction and a
   * degree-7 polynomial each), 32 for its two series, and about 10 to
   * split, select and accumulate: about 100. */
  sim->bytes_per_cell = 17.0 + (s->p.source != BHTE_SOURCE_NONE ? 4.0 : 0.0);
  sim->flops_per_cell = 100.0;

  if (validate_only)
    return sim;

  s->power = make_power (&s->p);
  if (wb_device_is_reference (device))
    {
      if (!ref_init (s, error))
        goto fail;
    }
  else
    {
      sim->cl = wb_cl_context_new (device, error);
      if (sim->cl == NULL || !cl_init (s, kernel_dir, error))
        goto fail;
    }
  return sim;

fail:
  wb_sim_free (sim);
  return NULL;
}
