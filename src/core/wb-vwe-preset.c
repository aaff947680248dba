/* wb-vwe-preset.c: the "vwe" preset schema (docs/presets.md), parsed and
 * validated into a VweConfig that both backends start from. */
#define G_LOG_DOMAIN "wb-vwe"
#include "config.h"

#include <complex.h>
#include <math.h>
#include <string.h>

#include "wb-error.h"
#include "wb-npy.h"
#include "wb-vwe-private.h"

const char * const vwe_quantity_names[VWE_N_QUANTITIES + 1] = {
  "Vx", "Vy", "Vz", "Sigma_xx", "Sigma_yy", "Sigma_zz",
  "Sigma_xy", "Sigma_xz", "Sigma_yz", "Pressure", NULL
};

static const char * const axis_names[] = { "x", "y", "z", NULL };

/* Largest grid: kernels index cells with 32-bit ints. */
#define VWE_MAX_CELLS ((gsize) G_MAXINT32)
/* Largest sensor record kept on the device and the host. */
#define VWE_MAX_TRACE_BYTES ((guint64) 2 << 30)

static char *
key_path (WbObj      *obj,
          const char *key)
{
  const char *p = wb_obj_path (obj);

  if (p == NULL || *p == '\0')
    return g_strdup (key);
  return g_strdup_printf ("%s.%s", p, key);
}

static gboolean G_GNUC_PRINTF (4, 5)
fail (GError    **error,
      int         code,
      const char *path,
      const char *format,
      ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, WB_ERROR, code, "%s: %s", path, msg);
  return FALSE;
}

static void
vwe_material_free (gpointer data)
{
  VweMaterial *m = data;

  g_free (m->name);
  g_free (m);
}

static void
vwe_source_free (gpointer data)
{
  VweSource *s = data;

  g_array_unref (s->points);
  g_free (s->table);
  g_free (s);
}

static void
vwe_channel_clear (gpointer data)
{
  VweChannel *c = data;

  g_free (c->name);
}

void
vwe_config_free (VweConfig *config)
{
  if (config == NULL)
    return;
  g_clear_pointer (&config->materials, g_ptr_array_unref);
  g_clear_pointer (&config->sources, g_ptr_array_unref);
  g_clear_pointer (&config->channels, g_array_unref);
  g_free (config->map);
  g_free (config->display_field);
  g_free (config);
}

guint
vwe_config_pml_width (const VweConfig *config,
                      guint            axis)
{
  if (axis >= config->ndim || config->periodic[axis])
    return 0;
  return config->pml_cells;
}

guint
vwe_config_n_samples (const VweConfig *config)
{
  return (guint) (config->steps / config->sensor_every) + 1;
}

/* "(0.1, 0.2) m" */
static char *
format_point (const double *x,
              guint         ndim)
{
  GString *s = g_string_new ("(");

  for (guint a = 0; a < ndim; a++)
    g_string_append_printf (s, "%s%g", a ? ", " : "", x[a]);
  g_string_append (s, ") m");
  return g_string_free (s, FALSE);
}

/* "[0, 0.127] x [0, 0.127] m" */
static char *
format_extent (const VweConfig *config)
{
  GString *s = g_string_new (NULL);

  for (guint a = 0; a < config->ndim; a++)
    g_string_append_printf (s, "%s[0, %g]", a ? " x " : "",
                            (double) (config->n[a] - 1) * config->h);
  g_string_append (s, " m");
  return g_string_free (s, FALSE);
}

/* Position in metres (or fractions of the extent when @relative) to the
 * nearest cell; FALSE with a message naming @path when outside. */
static gboolean
locate (const VweConfig *config,
        const double    *x,
        gboolean         relative,
        const char      *path,
        gsize           *idx,
        GError         **error)
{
  double m[3] = { 0, 0, 0 };
  gboolean inside = TRUE;

  for (guint a = 0; a < config->ndim; a++)
    {
      double cells;

      m[a] = relative ? x[a] * (double) (config->n[a] - 1) * config->h : x[a];
      cells = floor (m[a] / config->h + 0.5);
      if (!(cells >= 0 && cells < (double) config->n[a]))
        inside = FALSE;
      else
        idx[a] = (gsize) cells;
    }
  if (!inside)
    {
      g_autofree char *p = format_point (m, config->ndim);
      g_autofree char *e = format_extent (config);

      return fail (error, WB_ERROR_INVALID, path,
                   "point %s lies outside the grid, which spans %s", p, e);
    }
  for (guint a = config->ndim; a < 3; a++)
    idx[a] = 0;
  return TRUE;
}

static gsize
cell_index (const VweConfig *config,
            const gsize     *idx)
{
  return idx[0] + config->n[0] * (idx[1] + config->n[1] * idx[2]);
}

/* A coordinate vector given as a JSON array node (for arrays of points). */
static gboolean
parse_vec_node (JsonNode   *node,
                const char *path,
                guint       n,
                double     *out,
                GError    **error)
{
  JsonArray *array;

  if (!JSON_NODE_HOLDS_ARRAY (node)
      || json_array_get_length ((array = json_node_get_array (node))) != n)
    return fail (error, WB_ERROR_INVALID, path, "must be an array of %u numbers", n);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *e = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (e)
          || (json_node_get_value_type (e) != G_TYPE_DOUBLE
              && json_node_get_value_type (e) != G_TYPE_INT64))
        return fail (error, WB_ERROR_INVALID, path, "must be an array of %u numbers", n);
      out[i] = json_node_get_double (e);
      if (!isfinite (out[i]))
        return fail (error, WB_ERROR_INVALID, path, "must be finite");
    }
  return TRUE;
}

static gboolean
get_vec (WbObj      *obj,
         const char *key,
         gboolean    required,
         guint       n,
         double     *out,
         GError    **error)
{
  return wb_obj_get_doubles (obj, key, required, n, -1e9, 1e9, out, error);
}

static int
find_material (const VweConfig *config,
               const char      *name)
{
  for (guint i = 0; i < config->materials->len; i++)
    {
      VweMaterial *m = g_ptr_array_index (config->materials, i);

      if (g_strcmp0 (m->name, name) == 0)
        return (int) i;
    }
  return -1;
}

static gboolean
get_material (VweConfig  *config,
              WbObj      *obj,
              const char *key,
              gboolean    required,
              int        *out,
              GError    **error)
{
  g_autofree char *name = NULL;
  int m;

  if (!wb_obj_get_string (obj, key, required, NULL, &name, error))
    return FALSE;
  if (name == NULL)
    return TRUE;
  m = find_material (config, name);
  if (m < 0)
    {
      g_autoptr(GString) known = g_string_new (NULL);
      g_autofree char *path = key_path (obj, key);

      for (guint i = 0; i < config->materials->len; i++)
        g_string_append_printf (known, "%s%s", i ? ", " : "",
                                ((VweMaterial *) g_ptr_array_index (config->materials, i))->name);
      return fail (error, WB_ERROR_INVALID, path,
                   "unknown material '%s' (materials: %s)", name, known->str);
    }
  *out = m;
  return TRUE;
}

/* One standard linear solid with tau_sigma = 1/omega, fitted so that the
 * complex modulus M(omega) gives exactly the phase speed @c and the
 * attenuation @alpha at omega (k = omega/c - i alpha, M = rho omega^2/k^2).
 * With a = omega tau_epsilon, M(omega) = M_R (1 + i a)/(1 + i), so
 * Q = Re M / Im M = (1 + a)/(a - 1) and |M| = M_R sqrt((1 + a^2)/2). */
static gboolean
fit_sls (double      rho,
         double      c,
         double      alpha,
         double      omega,
         double     *MU,
         double     *MR,
         const char *path,
         GError    **error)
{
  double complex k, M;
  double Q, a;

  if (c == 0)
    {
      *MU = *MR = 0;
      return TRUE;
    }
  if (alpha == 0)
    {
      *MU = *MR = rho * c * c;
      return TRUE;
    }
  k = omega / c - I * alpha;
  M = rho * omega * omega / (k * k);
  Q = creal (M) / cimag (M);
  if (!(Q > 2))
    return fail (error, WB_ERROR_INVALID, path,
                 "attenuation %g Np/m is too strong for one relaxation mechanism "
                 "at %g Hz (Q = %.3g, need Q > 2)", alpha, omega / (2 * G_PI), Q);
  a = (Q + 1) / (Q - 1);
  *MR = cabs (M) / sqrt ((1 + a * a) / 2);
  *MU = *MR * a;
  return TRUE;
}

static gboolean
parse_materials (VweConfig *config,
                 WbObj     *root,
                 GError   **error)
{
  JsonArray *array = NULL;

  if (!wb_obj_get_array (root, "materials", TRUE, &array, error))
    return FALSE;
  if (json_array_get_length (array) == 0 || json_array_get_length (array) > 255)
    return fail (error, WB_ERROR_INVALID, "materials", "must list 1 to 255 materials");

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autoptr(WbObj) o = wb_obj_array_element (root, "materials", array, i, error);
      VweMaterial *m;

      if (o == NULL)
        return FALSE;
      m = g_new0 (VweMaterial, 1);
      g_ptr_array_add (config->materials, m);
      if (!wb_obj_get_string (o, "name", TRUE, NULL, &m->name, error)
          || !wb_obj_get_double (o, "density", TRUE, -G_MAXDOUBLE, G_MAXDOUBLE, &m->rho, error)
          || !wb_obj_get_double (o, "cL", TRUE, -G_MAXDOUBLE, G_MAXDOUBLE, &m->cL, error)
          || !wb_obj_get_double (o, "cS", FALSE, 0, G_MAXDOUBLE, &m->cS, error)
          || !wb_obj_get_double (o, "alphaL", FALSE, 0, G_MAXDOUBLE, &m->alphaL, error)
          || !wb_obj_get_double (o, "alphaS", FALSE, 0, G_MAXDOUBLE, &m->alphaS, error)
          || !wb_obj_finish (o, error))
        return FALSE;
      {
        g_autofree char *pd = key_path (o, "density");
        g_autofree char *pl = key_path (o, "cL");
        g_autofree char *ps = key_path (o, "cS");
        g_autofree char *pa = key_path (o, "alphaS");

        if (!(m->rho > 0))
          return fail (error, WB_ERROR_INVALID, pd, "must be > 0 kg/m^3, got %g", m->rho);
        if (!(m->cL > 0))
          return fail (error, WB_ERROR_INVALID, pl, "must be > 0 m/s, got %g", m->cL);
        /* A positive bulk modulus needs cL^2 > 4/3 cS^2. */
        if (!(m->cS < m->cL * sqrt (3.0) / 2))
          return fail (error, WB_ERROR_INVALID, ps,
                       "%g m/s is too large for cL = %g m/s (need cS < cL sqrt(3)/2 = %g)",
                       m->cS, m->cL, m->cL * sqrt (3.0) / 2);
        if (m->cS == 0 && m->alphaS > 0)
          return fail (error, WB_ERROR_INVALID, pa,
                       "shear attenuation %g Np/m given for a fluid (cS = 0)", m->alphaS);
      }
      if (find_material (config, m->name) != (int) i)
        {
          g_autofree char *pn = key_path (o, "name");

          return fail (error, WB_ERROR_INVALID, pn, "material '%s' is listed twice", m->name);
        }
      if (m->alphaL > 0 || m->alphaS > 0)
        config->attenuation = TRUE;
    }
  return TRUE;
}

static gboolean
parse_map (VweConfig      *config,
           WbObj          *root,
           const WbPreset *preset,
           GError        **error)
{
  int background = 0;
  g_autofree char *labels = NULL;
  JsonArray *array;
  const double h = config->h;

  if (!get_material (config, root, "background", FALSE, &background, error))
    return FALSE;
  memset (config->map, background, config->n_cells);

  if (!wb_obj_get_string (root, "labels", FALSE, NULL, &labels, error))
    return FALSE;
  if (labels != NULL)
    {
      g_autofree char *path = wb_preset_resolve_path (preset, labels);
      g_autoptr(GError) local = NULL;
      g_autoptr(WbNpyArray) npy = wb_npy_read (path, &local);
      gboolean same;

      if (npy == NULL)
        return fail (error, WB_ERROR_INVALID, "labels", "%s", local->message);
      same = npy->ndim == config->ndim;
      for (guint a = 0; a < config->ndim; a++)
        same = same && npy->shape[a] == config->n[a];
      if (!same)
        {
          g_autoptr(GString) fs = g_string_new ("(");
          g_autoptr(GString) gs = g_string_new ("(");

          for (guint a = 0; a < npy->ndim; a++)
            g_string_append_printf (fs, "%s%" G_GSIZE_FORMAT, a ? ", " : "", npy->shape[a]);
          for (guint a = 0; a < config->ndim; a++)
            g_string_append_printf (gs, "%s%" G_GSIZE_FORMAT, a ? ", " : "", config->n[a]);
          return fail (error, WB_ERROR_INVALID, "labels",
                       "label map '%s' has shape %s), the grid has shape %s)",
                       labels, fs->str, gs->str);
        }
      for (gsize c = 0; c < config->n_cells; c++)
        {
          double v = npy->data[c];

          if (!(v >= 0 && v < config->materials->len && v == floor (v)))
            return fail (error, WB_ERROR_INVALID, "labels",
                         "value %g in '%s' at cell (%" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT
                         ", %" G_GSIZE_FORMAT ") is not a material index (0 .. %u)",
                         v, labels, c % config->n[0], (c / config->n[0]) % config->n[1],
                         c / (config->n[0] * config->n[1]), config->materials->len - 1);
          config->map[c] = (guint8) v;
        }
    }

  array = NULL;
  if (!wb_obj_get_array (root, "layers", FALSE, &array, error))
    return FALSE;
  for (guint e = 0; array && e < json_array_get_length (array); e++)
    {
      g_autoptr(WbObj) o = wb_obj_array_element (root, "layers", array, e, error);
      g_autofree char *axis = NULL;
      int m = 0;
      double from = -G_MAXDOUBLE, to = G_MAXDOUBLE;
      guint ax;

      if (o == NULL
          || !get_material (config, o, "material", TRUE, &m, error)
          || !wb_obj_get_string (o, "axis", TRUE, axis_names, &axis, error)
          || !wb_obj_get_double (o, "from", FALSE, -1e9, 1e9, &from, error)
          || !wb_obj_get_double (o, "to", FALSE, -1e9, 1e9, &to, error)
          || !wb_obj_finish (o, error))
        return FALSE;
      ax = axis[0] - 'x';
      if (ax >= config->ndim)
        {
          g_autofree char *p = key_path (o, "axis");
          return fail (error, WB_ERROR_INVALID, p, "axis '%s' does not exist in 2D", axis);
        }
      for (gsize c = 0; c < config->n_cells; c++)
        {
          gsize idx[3] = { c % config->n[0], (c / config->n[0]) % config->n[1],
                           c / (config->n[0] * config->n[1]) };
          double x = (double) idx[ax] * h;

          if (x >= from && x < to)
            config->map[c] = m;
        }
    }

  array = NULL;
  if (!wb_obj_get_array (root, "boxes", FALSE, &array, error))
    return FALSE;
  for (guint e = 0; array && e < json_array_get_length (array); e++)
    {
      g_autoptr(WbObj) o = wb_obj_array_element (root, "boxes", array, e, error);
      double lo[3] = { 0, 0, 0 }, hi[3] = { 0, 0, 0 };
      int m = 0;

      if (o == NULL
          || !get_material (config, o, "material", TRUE, &m, error)
          || !get_vec (o, "min", TRUE, config->ndim, lo, error)
          || !get_vec (o, "max", TRUE, config->ndim, hi, error)
          || !wb_obj_finish (o, error))
        return FALSE;
      for (gsize c = 0; c < config->n_cells; c++)
        {
          gsize idx[3] = { c % config->n[0], (c / config->n[0]) % config->n[1],
                           c / (config->n[0] * config->n[1]) };
          gboolean in = TRUE;

          for (guint a = 0; a < config->ndim; a++)
            in = in && idx[a] * h >= lo[a] && idx[a] * h < hi[a];
          if (in)
            config->map[c] = m;
        }
    }

  array = NULL;
  if (!wb_obj_get_array (root, "spheres", FALSE, &array, error))
    return FALSE;
  for (guint e = 0; array && e < json_array_get_length (array); e++)
    {
      g_autoptr(WbObj) o = wb_obj_array_element (root, "spheres", array, e, error);
      double ctr[3] = { 0, 0, 0 }, r = 0;
      int m = 0;

      if (o == NULL
          || !get_material (config, o, "material", TRUE, &m, error)
          || !get_vec (o, "centre", TRUE, config->ndim, ctr, error)
          || !wb_obj_get_double (o, "radius", TRUE, 0, 1e9, &r, error)
          || !wb_obj_finish (o, error))
        return FALSE;
      for (gsize c = 0; c < config->n_cells; c++)
        {
          gsize idx[3] = { c % config->n[0], (c / config->n[0]) % config->n[1],
                           c / (config->n[0] * config->n[1]) };
          double d2 = 0;

          for (guint a = 0; a < config->ndim; a++)
            d2 += (idx[a] * h - ctr[a]) * (idx[a] * h - ctr[a]);
          if (d2 <= r * r)
            config->map[c] = m;
        }
    }
  return TRUE;
}

typedef enum { SIG_RICKER, SIG_TONE_BURST, SIG_SAMPLES } SignalType;

typedef struct
{
  SignalType type;
  double     f, delay, cycles, sdt;
  double    *values;
  guint      n_values;
} Signal;

static double
signal_eval (const Signal *s,
             double        t)
{
  switch (s->type)
    {
    case SIG_RICKER:
      {
        double a = G_PI * s->f * (t - s->delay);
        return (1 - 2 * a * a) * exp (-a * a);
      }
    case SIG_TONE_BURST:
      {
        double u = t - s->delay, len = s->cycles / s->f;

        if (u < 0 || u > len)
          return 0;
        return sin (2 * G_PI * s->f * u) * 0.5 * (1 - cos (2 * G_PI * u / len));
      }
    case SIG_SAMPLES:
      {
        double x = t / s->sdt;
        gsize i;

        if (x < 0 || x > s->n_values - 1)
          return 0;
        i = (gsize) x;
        if (i + 1 >= s->n_values)
          return s->values[s->n_values - 1];
        return s->values[i] + (x - i) * (s->values[i + 1] - s->values[i]);
      }
    }
  return 0;
}

static gboolean
parse_signal (VweConfig *config,
              WbObj     *src,
              Signal    *sig,
              GError   **error)
{
  static const char * const types[] = { "ricker", "tone_burst", "samples", NULL };
  g_autoptr(WbObj) o = NULL;
  g_autofree char *type = NULL;

  if (!wb_obj_get_obj (src, "signal", TRUE, &o, error)
      || !wb_obj_get_string (o, "type", TRUE, types, &type, error))
    return FALSE;
  if (g_str_equal (type, "samples"))
    {
      JsonArray *values = NULL;
      g_autofree char *pv = key_path (o, "values");

      sig->type = SIG_SAMPLES;
      sig->sdt = config->dt;
      if (!wb_obj_get_array (o, "values", TRUE, &values, error)
          || !wb_obj_get_double (o, "dt", FALSE, 1e-15, 1e6, &sig->sdt, error))
        return FALSE;
      sig->n_values = json_array_get_length (values);
      if (sig->n_values == 0)
        return fail (error, WB_ERROR_INVALID, pv, "must not be empty");
      sig->values = g_new (double, sig->n_values);
      for (guint i = 0; i < sig->n_values; i++)
        {
          JsonNode *e = json_array_get_element (values, i);

          if (!JSON_NODE_HOLDS_VALUE (e)
              || (json_node_get_value_type (e) != G_TYPE_DOUBLE
                  && json_node_get_value_type (e) != G_TYPE_INT64)
              || !isfinite (json_node_get_double (e)))
            return fail (error, WB_ERROR_INVALID, pv, "element %u is not a finite number", i);
          sig->values[i] = json_node_get_double (e);
        }
    }
  else
    {
      sig->type = g_str_equal (type, "ricker") ? SIG_RICKER : SIG_TONE_BURST;
      sig->cycles = 3;
      if (!wb_obj_get_double (o, "frequency", TRUE, 1e-6, 1e12, &sig->f, error))
        return FALSE;
      /* A Ricker wavelet starts 1.2 periods early so that it begins at
       * about 1e-5 of its peak. */
      sig->delay = sig->type == SIG_RICKER ? 1.2 / sig->f : 0;
      if (!wb_obj_get_double (o, "delay", FALSE, -1e6, 1e6, &sig->delay, error))
        return FALSE;
      if (sig->type == SIG_TONE_BURST
          && !wb_obj_get_double (o, "cycles", FALSE, 0.5, 1e6, &sig->cycles, error))
        return FALSE;
    }
  return wb_obj_finish (o, error);
}

static void
add_point (GArray     *points,
           GHashTable *seen,
           gsize       cell)
{
  VwePoint p = { cell, 0, { 0, 0, 0 } };

  if (g_hash_table_contains (seen, GSIZE_TO_POINTER (cell + 1)))
    return;
  g_hash_table_add (seen, GSIZE_TO_POINTER (cell + 1));
  g_array_append_val (points, p);
}

static void
cell_centre (const VweConfig *config,
             gsize            cell,
             double          *x)
{
  x[0] = (double) (cell % config->n[0]) * config->h;
  x[1] = (double) ((cell / config->n[0]) % config->n[1]) * config->h;
  x[2] = (double) (cell / (config->n[0] * config->n[1])) * config->h;
}

/* Cells of a source or sensor shape: point, line, plane, arc, bowl. */
static gboolean
parse_shape (VweConfig  *config,
             WbObj      *o,
             gboolean    relative,
             const char *shape,
             GArray     *points,
             double     *focus,
             gboolean   *has_focus,
             GError    **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  const guint nd = config->ndim;
  gsize idx[3];

  *has_focus = FALSE;
  if (g_str_equal (shape, "point"))
    {
      double x[3] = { 0, 0, 0 };
      g_autofree char *p = key_path (o, "position");

      if (!get_vec (o, "position", TRUE, nd, x, error)
          || !locate (config, x, relative, p, idx, error))
        return FALSE;
      add_point (points, seen, cell_index (config, idx));
    }
  else if (g_str_equal (shape, "line"))
    {
      double a[3] = { 0, 0, 0 }, b[3] = { 0, 0, 0 }, len = 0;
      g_autofree char *pa = key_path (o, "start");
      g_autofree char *pb = key_path (o, "end");
      guint n;

      if (!get_vec (o, "start", TRUE, nd, a, error)
          || !get_vec (o, "end", TRUE, nd, b, error)
          || !locate (config, a, relative, pa, idx, error)
          || !locate (config, b, relative, pb, idx, error))
        return FALSE;
      if (relative)
        for (guint d = 0; d < nd; d++)
          {
            a[d] *= (config->n[d] - 1) * config->h;
            b[d] *= (config->n[d] - 1) * config->h;
          }
      for (guint d = 0; d < nd; d++)
        len += (b[d] - a[d]) * (b[d] - a[d]);
      /* Four samples per cell along the line catch every cell it crosses. */
      n = (guint) ceil (4 * sqrt (len) / config->h) + 1;
      for (guint s = 0; s < n; s++)
        {
          double x[3] = { 0, 0, 0 };

          for (guint d = 0; d < nd; d++)
            x[d] = a[d] + (b[d] - a[d]) * (n > 1 ? (double) s / (n - 1) : 0);
          if (!locate (config, x, FALSE, pa, idx, error))
            return FALSE;
          add_point (points, seen, cell_index (config, idx));
        }
    }
  else if (g_str_equal (shape, "plane"))
    {
      g_autofree char *axis = NULL;
      g_autofree char *pat = key_path (o, "at");
      double at = 0, x[3] = { 0, 0, 0 };
      guint ax;

      if (!wb_obj_get_string (o, "axis", TRUE, axis_names, &axis, error)
          || !wb_obj_get_double (o, "at", TRUE, -1e9, 1e9, &at, error))
        return FALSE;
      ax = axis[0] - 'x';
      if (ax >= nd)
        {
          g_autofree char *p = key_path (o, "axis");
          return fail (error, WB_ERROR_INVALID, p, "axis '%s' does not exist in 2D", axis);
        }
      x[ax] = at;
      if (!locate (config, x, relative, pat, idx, error))
        return FALSE;
      for (gsize c = 0; c < config->n_cells; c++)
        {
          gsize ci[3] = { c % config->n[0], (c / config->n[0]) % config->n[1],
                          c / (config->n[0] * config->n[1]) };

          if (ci[ax] == idx[ax])
            add_point (points, seen, c);
        }
    }
  else /* arc (2D) or bowl (3D): cells on a sphere about the focus */
    {
      double apex[3] = { 0, 0, 0 }, axis[3] = { 0, 0, 0 }, aperture = 0, R = 0, cosmax;
      g_autofree char *pf = key_path (o, "focus");
      g_autofree char *pa = key_path (o, "aperture");
      g_autofree char *ps = key_path (o, "shape");

      if ((nd == 2) != g_str_equal (shape, "arc"))
        return fail (error, WB_ERROR_INVALID, ps, "'%s' needs a %s grid (use '%s')",
                     shape, nd == 2 ? "3D" : "2D", nd == 2 ? "arc" : "bowl");
      if (!get_vec (o, "focus", TRUE, nd, focus, error)
          || !get_vec (o, "apex", TRUE, nd, apex, error)
          || !wb_obj_get_double (o, "aperture", TRUE, 0, 1e9, &aperture, error))
        return FALSE;
      if (relative)
        for (guint d = 0; d < nd; d++)
          {
            focus[d] *= (config->n[d] - 1) * config->h;
            apex[d] *= (config->n[d] - 1) * config->h;
          }
      for (guint d = 0; d < nd; d++)
        {
          axis[d] = apex[d] - focus[d];
          R += axis[d] * axis[d];
        }
      R = sqrt (R);
      if (R < 2 * config->h)
        return fail (error, WB_ERROR_INVALID, pf, "the apex must be at least two cells from the focus");
      if (aperture > 2 * R)
        return fail (error, WB_ERROR_INVALID, pa, "%g m exceeds the diameter %g m of the sphere",
                     aperture, 2 * R);
      for (guint d = 0; d < nd; d++)
        axis[d] /= R;
      cosmax = sqrt (1 - (aperture / (2 * R)) * (aperture / (2 * R)));
      for (gsize c = 0; c < config->n_cells; c++)
        {
          double x[3], d2 = 0, dot = 0, r;

          cell_centre (config, c, x);
          for (guint d = 0; d < nd; d++)
            {
              d2 += (x[d] - focus[d]) * (x[d] - focus[d]);
              dot += (x[d] - focus[d]) * axis[d];
            }
          r = sqrt (d2);
          if (fabs (r - R) <= 0.5 * config->h && dot >= cosmax * r)
            add_point (points, seen, c);
        }
      if (points->len == 0)
        return fail (error, WB_ERROR_INVALID, pa, "the %s covers no cell of the grid", shape);
      /* The apex must lie in the grid, or the bowl is mostly lost. */
      {
        double ap[3] = { 0, 0, 0 };
        g_autofree char *pp = key_path (o, "apex");

        for (guint d = 0; d < nd; d++)
          ap[d] = focus[d] + R * axis[d];
        if (!locate (config, ap, FALSE, pp, idx, error))
          return FALSE;
      }
      *has_focus = TRUE;
      return TRUE;
    }

  if (wb_obj_has (o, "focus"))
    {
      if (!get_vec (o, "focus", TRUE, nd, focus, error))
        return FALSE;
      if (relative)
        for (guint d = 0; d < nd; d++)
          focus[d] *= (config->n[d] - 1) * config->h;
      *has_focus = TRUE;
    }
  return TRUE;
}

static gboolean
parse_sources (VweConfig *config,
               WbObj     *root,
               GError   **error)
{
  static const char * const kinds[] = { "velocity", "pressure", NULL };
  static const char * const modes[] = { "add", "impose", NULL };
  static const char * const shapes2[] = { "point", "line", "plane", "arc", "bowl", NULL };
  JsonArray *array = NULL;

  if (!wb_obj_get_array (root, "sources", FALSE, &array, error))
    return FALSE;
  for (guint e = 0; array && e < json_array_get_length (array); e++)
    {
      g_autoptr(WbObj) o = wb_obj_array_element (root, "sources", array, e, error);
      g_autofree char *kind = NULL, *mode = NULL, *shape = NULL;
      g_autofree double *dummy = NULL;
      VweSource *src;
      Signal sig = { 0 };
      double amplitude = 1, dir[3] = { 0, 0, 0 }, focus[3] = { 0, 0, 0 }, c_ref = 0;
      gboolean relative = FALSE, has_focus = FALSE, has_dir;
      guint64 n_table;

      if (o == NULL
          || !wb_obj_get_string (o, "type", TRUE, kinds, &kind, error)
          || !wb_obj_get_string (o, "mode", FALSE, modes, &mode, error)
          || !wb_obj_get_double (o, "amplitude", FALSE, -1e30, 1e30, &amplitude, error)
          || !wb_obj_get_string (o, "shape", FALSE, shapes2, &shape, error)
          || !wb_obj_get_bool (o, "relative", FALSE, &relative, error)
          || !wb_obj_get_double (o, "sound_speed", FALSE, 1e-3, 1e9, &c_ref, error))
        return FALSE;

      src = g_new0 (VweSource, 1);
      src->points = g_array_new (FALSE, FALSE, sizeof (VwePoint));
      g_ptr_array_add (config->sources, src);
      src->kind = g_str_equal (kind, "velocity") ? VWE_SRC_VELOCITY : VWE_SRC_PRESSURE;
      src->impose = mode != NULL && g_str_equal (mode, "impose");

      if (!parse_shape (config, o, relative, shape ? shape : "point", src->points,
                        focus, &has_focus, error))
        return FALSE;

      has_dir = wb_obj_has (o, "direction");
      if (src->kind == VWE_SRC_VELOCITY)
        {
          double norm = 0;

          if (!has_dir && !has_focus)
            {
              g_autofree char *p = key_path (o, "direction");
              return fail (error, WB_ERROR_INVALID, p,
                           "a velocity source needs a direction (or a focus to point at)");
            }
          if (has_dir)
            {
              g_autofree char *p = key_path (o, "direction");

              if (!get_vec (o, "direction", TRUE, config->ndim, dir, error))
                return FALSE;
              for (guint d = 0; d < config->ndim; d++)
                norm += dir[d] * dir[d];
              if (norm == 0)
                return fail (error, WB_ERROR_INVALID, p, "must not be the zero vector");
              for (guint d = 0; d < config->ndim; d++)
                dir[d] /= sqrt (norm);
            }
        }
      else if (has_dir)
        {
          g_autofree char *p = key_path (o, "direction");
          return fail (error, WB_ERROR_INVALID, p, "only velocity sources have a direction");
        }

      if (!parse_signal (config, o, &sig, error))
        {
          g_free (sig.values);
          return FALSE;
        }
      dummy = sig.values;
      if (!wb_obj_finish (o, error))
        return FALSE;

      if (config->f0 == 0 && sig.type != SIG_SAMPLES)
        config->f0 = sig.f;

      /* Delays that make every point's wave reach the focus together. */
      if (has_focus)
        {
          double dmax = 0;

          if (c_ref == 0)
            {
              VwePoint *p0 = &g_array_index (src->points, VwePoint, 0);
              c_ref = ((VweMaterial *) g_ptr_array_index (config->materials,
                                                          config->map[p0->cell]))->cL;
            }
          for (guint i = 0; i < src->points->len; i++)
            {
              VwePoint *p = &g_array_index (src->points, VwePoint, i);
              double x[3], d2 = 0;

              cell_centre (config, p->cell, x);
              for (guint d = 0; d < config->ndim; d++)
                d2 += (x[d] - focus[d]) * (x[d] - focus[d]);
              p->delay = sqrt (d2);
              dmax = MAX (dmax, p->delay);
            }
          for (guint i = 0; i < src->points->len; i++)
            {
              VwePoint *p = &g_array_index (src->points, VwePoint, i);
              p->delay = (dmax - p->delay) / c_ref;
            }
        }

      for (guint i = 0; i < src->points->len; i++)
        {
          VwePoint *p = &g_array_index (src->points, VwePoint, i);
          const VweMaterial *m = g_ptr_array_index (config->materials, config->map[p->cell]);
          /* Add mode injects a rate: amplitude times 2 c dt / h per step
           * makes a plane source radiate about the amplitude given (as
           * k-Wave's additive sources). */
          double scale = src->impose ? amplitude : amplitude * 2 * m->cL * config->dt / config->h;

          if (src->kind == VWE_SRC_PRESSURE)
            p->w[0] = scale;
          else
            {
              double pd[3] = { dir[0], dir[1], dir[2] };

              if (!has_dir)
                {
                  double x[3], norm = 0;

                  cell_centre (config, p->cell, x);
                  for (guint d = 0; d < config->ndim; d++)
                    {
                      pd[d] = focus[d] - x[d];
                      norm += pd[d] * pd[d];
                    }
                  for (guint d = 0; d < config->ndim; d++)
                    pd[d] = norm > 0 ? pd[d] / sqrt (norm) : 0;
                }
              for (guint d = 0; d < config->ndim; d++)
                p->w[d] = scale * pd[d];
            }
        }

      /* Half-step samples up to the planned run, plus a margin. */
      n_table = 2 * config->steps + 4;
      if (n_table > G_MAXINT32)
        return fail (error, WB_ERROR_INVALID, "time.steps", "too many steps");
      src->n_table = (guint) n_table;
      src->table = g_new (float, src->n_table);
      for (guint m = 0; m < src->n_table; m++)
        src->table[m] = (float) signal_eval (&sig, m * config->dt / 2);
    }
  return TRUE;
}

static gboolean
parse_quantities (VweConfig   *config,
                  WbObj       *o,
                  GArray      *out,
                  GError     **error)
{
  JsonArray *array = NULL;
  g_autofree char *path = key_path (o, "quantities");

  if (!wb_obj_get_array (o, "quantities", FALSE, &array, error))
    return FALSE;
  if (array == NULL)
    {
      VweQuantity q = VWE_Q_PRESSURE;
      g_array_append_val (out, q);
      return TRUE;
    }
  if (json_array_get_length (array) == 0)
    return fail (error, WB_ERROR_INVALID, path, "must name at least one quantity");
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *e = json_array_get_element (array, i);
      const char *name = JSON_NODE_HOLDS_VALUE (e)
                         && json_node_get_value_type (e) == G_TYPE_STRING
                         ? json_node_get_string (e) : NULL;
      VweQuantity q;
      gboolean ok = FALSE;

      for (q = 0; name && q < VWE_N_QUANTITIES; q++)
        if (g_str_equal (name, vwe_quantity_names[q]))
          {
            ok = TRUE;
            break;
          }
      if (ok && config->ndim == 2
          && (q == VWE_Q_VZ || q == VWE_Q_SZZ || q == VWE_Q_SXZ || q == VWE_Q_SYZ))
        return fail (error, WB_ERROR_INVALID, path,
                     "'%s' is not computed in 2D (plane strain: Vx, Vy, Sigma_xx, "
                     "Sigma_yy, Sigma_xy, Pressure)", name);
      if (!ok)
        {
          g_autofree char *choices = g_strjoinv (", ", (char **) vwe_quantity_names);
          return fail (error, WB_ERROR_INVALID, path,
                       "element %u is not a quantity (choices: %s)", i, choices);
        }
      g_array_append_val (out, q);
    }
  return TRUE;
}

static void
add_channels (VweConfig  *config,
              GArray     *quantities,
              gsize       cell,
              const char *label)
{
  for (guint q = 0; q < quantities->len; q++)
    {
      VweChannel ch;

      ch.cell = cell;
      ch.quantity = g_array_index (quantities, VweQuantity, q);
      ch.name = g_strdup_printf ("%s %s", label, vwe_quantity_names[ch.quantity]);
      g_array_append_val (config->channels, ch);
    }
}

static gboolean
parse_sensors (VweConfig *config,
               WbObj     *root,
               GError   **error)
{
  g_autoptr(WbObj) o = NULL;
  g_autoptr(GArray) quantities = g_array_new (FALSE, FALSE, sizeof (VweQuantity));
  gboolean relative = FALSE;
  gint64 every = 1;
  JsonArray *array = NULL;

  config->sensor_every = 1;
  if (!wb_obj_get_obj (root, "sensors", FALSE, &o, error))
    return FALSE;
  if (o == NULL)
    return TRUE;
  if (!wb_obj_get_int (o, "every", FALSE, 1, G_MAXINT32, &every, error)
      || !wb_obj_get_bool (o, "relative", FALSE, &relative, error)
      || !parse_quantities (config, o, quantities, error))
    return FALSE;
  config->sensor_every = (guint) every;

  if (!wb_obj_get_array (o, "points", FALSE, &array, error))
    return FALSE;
  for (guint i = 0; array && i < json_array_get_length (array); i++)
    {
      g_autofree char *base = key_path (o, "points");
      g_autofree char *path = g_strdup_printf ("%s[%u]", base, i);
      g_autofree char *label = g_strdup_printf ("point %u", i);
      double x[3] = { 0, 0, 0 };
      gsize idx[3];

      if (!parse_vec_node (json_array_get_element (array, i), path, config->ndim, x, error)
          || !locate (config, x, relative, path, idx, error))
        return FALSE;
      add_channels (config, quantities, cell_index (config, idx), label);
    }

  for (guint kind = 0; kind < 2; kind++)
    {
      const char *key = kind == 0 ? "lines" : "planes";

      array = NULL;
      if (!wb_obj_get_array (o, key, FALSE, &array, error))
        return FALSE;
      for (guint i = 0; array && i < json_array_get_length (array); i++)
        {
          g_autoptr(WbObj) e = wb_obj_array_element (o, key, array, i, error);
          g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (VwePoint));
          double focus[3];
          gboolean has_focus;

          if (e == NULL
              || !parse_shape (config, e, relative, kind == 0 ? "line" : "plane",
                               points, focus, &has_focus, error)
              || !wb_obj_finish (e, error))
            return FALSE;
          for (guint p = 0; p < points->len; p++)
            {
              g_autofree char *label = g_strdup_printf ("%s %u #%u", kind == 0 ? "line" : "plane",
                                                        i, p);
              add_channels (config, quantities, g_array_index (points, VwePoint, p).cell, label);
            }
        }
    }
  if (!wb_obj_finish (o, error))
    return FALSE;

  if ((guint64) config->channels->len * vwe_config_n_samples (config) * sizeof (float)
      > VWE_MAX_TRACE_BYTES)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                   "sensors: %u channels x %u samples exceed the %" G_GUINT64_FORMAT
                   " MiB trace memory limit; record fewer points or use a larger 'every'",
                   config->channels->len, vwe_config_n_samples (config),
                   VWE_MAX_TRACE_BYTES >> 20);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_boundary (VweConfig *config,
                WbObj     *root,
                GError   **error)
{
  g_autoptr(WbObj) o = NULL;
  gint64 cells = 12;
  JsonArray *periodic = NULL;

  config->pml_reflection = 1e-5;
  if (!wb_obj_get_obj (root, "boundary", FALSE, &o, error))
    return FALSE;
  if (o != NULL)
    {
      g_autofree char *pp = key_path (o, "periodic");

      if (!wb_obj_get_int (o, "pml_cells", FALSE, 0, 128, &cells, error)
          || !wb_obj_get_double (o, "pml_reflection", FALSE, 1e-12, 0.5,
                                 &config->pml_reflection, error)
          || !wb_obj_get_array (o, "periodic", FALSE, &periodic, error)
          || !wb_obj_finish (o, error))
        return FALSE;
      for (guint i = 0; periodic && i < json_array_get_length (periodic); i++)
        {
          JsonNode *e = json_array_get_element (periodic, i);
          const char *s = JSON_NODE_HOLDS_VALUE (e)
                          && json_node_get_value_type (e) == G_TYPE_STRING
                          ? json_node_get_string (e) : "";
          guint ax = g_strv_contains (axis_names, s) ? (guint) (s[0] - 'x') : 3;

          if (ax >= config->ndim)
            return fail (error, WB_ERROR_INVALID, pp,
                         "element %u must be an axis of the grid (x, y%s)", i,
                         config->ndim == 3 ? ", z" : "");
          config->periodic[ax] = TRUE;
        }
    }
  config->pml_cells = (guint) cells;
  for (guint a = 0; a < config->ndim; a++)
    {
      guint w = vwe_config_pml_width (config, a);

      if (config->n[a] < 2 * (gsize) w + 4)
        return fail (error, WB_ERROR_INVALID, "grid.shape",
                     "%" G_GSIZE_FORMAT " cells along %s leave no interior inside a PML of "
                     "%u cells per side (need at least %u)",
                     config->n[a], axis_names[a], w, 2 * w + 4);
    }
  return TRUE;
}

VweConfig *
vwe_config_parse (const WbPreset *preset,
                  GError        **error)
{
  static const char * const solvers[] = { "vwe", NULL };
  g_autoptr(VweConfig) config = g_new0 (VweConfig, 1);
  g_autoptr(WbObj) root = NULL;
  g_autoptr(WbObj) grid = NULL;
  g_autoptr(WbObj) time = NULL;
  g_autoptr(WbObj) display = NULL;
  g_autofree char *solver = NULL, *title = NULL, *description = NULL;
  gint64 shape[3] = { 1, 1, 1 }, steps = 0;
  JsonNode *shape_node;
  double dt = 0, cfl = 0.9;
  guint fastest = 0;

  config->materials = g_ptr_array_new_with_free_func (vwe_material_free);
  config->sources = g_ptr_array_new_with_free_func (vwe_source_free);
  config->channels = g_array_new (FALSE, FALSE, sizeof (VweChannel));
  g_array_set_clear_func (config->channels, vwe_channel_clear);
  config->maps = TRUE;

  root = wb_obj_new (preset->root, "", error);
  if (root == NULL
      || !wb_obj_get_string (root, "solver", TRUE, solvers, &solver, error)
      || !wb_obj_get_string (root, "title", FALSE, NULL, &title, error)
      || !wb_obj_get_string (root, "description", FALSE, NULL, &description, error)
      || !wb_obj_get_bool (root, "record_maps", FALSE, &config->maps, error)
      || !wb_obj_get_obj (root, "grid", TRUE, &grid, error))
    return NULL;

  /* grid */
  shape_node = wb_obj_get_node (grid, "shape");
  if (shape_node == NULL || !JSON_NODE_HOLDS_ARRAY (shape_node)
      || (json_array_get_length (json_node_get_array (shape_node)) != 2
          && json_array_get_length (json_node_get_array (shape_node)) != 3))
    {
      fail (error, WB_ERROR_INVALID, "grid.shape", "must be [nx, ny] or [nx, ny, nz]");
      return NULL;
    }
  config->ndim = json_array_get_length (json_node_get_array (shape_node));
  if (!wb_obj_get_ints (grid, "shape", TRUE, config->ndim, 1, 1 << 20, shape, error)
      || !wb_obj_get_double (grid, "spacing", TRUE, 1e-12, 1e6, &config->h, error)
      || !wb_obj_finish (grid, error))
    return NULL;
  config->n_cells = 1;
  for (guint a = 0; a < 3; a++)
    {
      config->n[a] = (gsize) shape[a];
      if (config->n_cells > VWE_MAX_CELLS / config->n[a])
        {
          g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                       "grid.shape: more than %" G_GSIZE_FORMAT " cells", VWE_MAX_CELLS);
          return NULL;
        }
      config->n_cells *= config->n[a];
    }

  /* time */
  if (!wb_obj_get_obj (root, "time", TRUE, &time, error)
      || !wb_obj_get_int (time, "steps", TRUE, 1, G_MAXINT32 / 2 - 4, &steps, error)
      || !wb_obj_get_double (time, "dt", FALSE, 1e-18, 1e6, &dt, error)
      || !wb_obj_get_double (time, "cfl", FALSE, 1e-3, 1, &cfl, error)
      || !wb_obj_finish (time, error))
    return NULL;
  config->steps = (guint64) steps;

  if (!parse_materials (config, root, error)
      || !wb_obj_get_double (root, "centre_frequency", FALSE, 1e-6, 1e12, &config->f0, error))
    return NULL;

  config->map = g_malloc (config->n_cells);
  if (!parse_map (config, root, preset, error)
      || !parse_boundary (config, root, error))
    return NULL;

  /* Stability: the fastest wave is the unrelaxed P wave of the lossy
   * materials, which needs the moduli, which need the centre frequency,
   * which may come from the first source: so look at the sources' signal
   * frequency first, without building them. */
  if (config->f0 == 0)
    {
      JsonNode *srcs = wb_preset_lookup (preset, "sources");

      if (srcs && JSON_NODE_HOLDS_ARRAY (srcs) && json_array_get_length (json_node_get_array (srcs)) > 0)
        {
          JsonNode *s0 = json_array_get_element (json_node_get_array (srcs), 0);
          JsonObject *so = JSON_NODE_HOLDS_OBJECT (s0) ? json_node_get_object (s0) : NULL;
          JsonObject *sig = so && json_object_has_member (so, "signal")
                            && JSON_NODE_HOLDS_OBJECT (json_object_get_member (so, "signal"))
                            ? json_object_get_object_member (so, "signal") : NULL;

          if (sig && json_object_has_member (sig, "frequency")
              && JSON_NODE_HOLDS_VALUE (json_object_get_member (sig, "frequency")))
            config->f0 = json_object_get_double_member (sig, "frequency");
        }
      if (!(config->f0 > 0) && config->attenuation)
        {
          fail (error, WB_ERROR_INVALID, "centre_frequency",
                "needed for attenuation when the first source has no frequency");
          return NULL;
        }
      if (!(config->f0 > 0))
        config->f0 = 0;
    }
  config->tau_sigma = config->f0 > 0 ? 1 / (2 * G_PI * config->f0) : 1;

  for (guint i = 0; i < config->materials->len; i++)
    {
      VweMaterial *m = g_ptr_array_index (config->materials, i);
      g_autofree char *pl = g_strdup_printf ("materials[%u].alphaL", i);
      g_autofree char *ps = g_strdup_printf ("materials[%u].alphaS", i);
      double omega = 2 * G_PI * config->f0, c;

      if (!fit_sls (m->rho, m->cL, m->alphaL, omega, &m->piU, &m->piR, pl, error)
          || !fit_sls (m->rho, m->cS, m->alphaS, omega, &m->muU, &m->muR, ps, error))
        return NULL;
      c = sqrt (m->piU / m->rho);
      if (c > config->c_max)
        {
          config->c_max = c;
          fastest = i;
        }
    }

  /* dt <= h / (sum |c_i| sqrt(ndim) c_max) with sum |c_i| = 9/8 + 1/24 = 7/6. */
  config->dt_bound = config->h * (6.0 / 7.0) / (sqrt ((double) config->ndim) * config->c_max);
  if (dt == 0)
    dt = cfl * config->dt_bound;
  else if (dt > config->dt_bound)
    {
      VweMaterial *m = g_ptr_array_index (config->materials, fastest);

      g_set_error (error, WB_ERROR, WB_ERROR_UNSTABLE,
                   "time.dt: %g s exceeds the stability bound %g s = h (6/7) / (sqrt(%u) c_max) "
                   "with h = %g m and c_max = %g m/s (unrelaxed P speed of material '%s')",
                   dt, config->dt_bound, config->ndim, config->h, config->c_max, m->name);
      return NULL;
    }
  config->dt = dt;

  if (!parse_sources (config, root, error)
      || !parse_sensors (config, root, error))
    return NULL;

  if (!wb_obj_get_obj (root, "display", FALSE, &display, error))
    return NULL;
  if (display != NULL
      && (!wb_obj_get_string (display, "field", FALSE, NULL, &config->display_field, error)
          || !wb_obj_finish (display, error)))
    return NULL;
  if (!wb_obj_finish (root, error))
    return NULL;

  return g_steal_pointer (&config);
}
