#define G_LOG_DOMAIN "wb-pstm"
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "wb-cl.h"
#include "wb-device.h"
#include "wb-error.h"
#include "wb-io.h"
#include "wb-pstm.h"
#include "wb-render.h"
#include "wb-tune.h"

#define CHECKPOINT_MAGIC "WBPSTMK1"

/* --- velocity ------------------------------------------------------------ */

WbVelocity *
wb_velocity_new_constant (double v)
{
  WbVelocity *vel = g_new0 (WbVelocity, 1);

  vel->n = 1;
  vel->t = g_new (double, 1);
  vel->v = g_new (double, 1);
  vel->t[0] = 0;
  vel->v[0] = v;
  return vel;
}

WbVelocity *
wb_velocity_new (guint         n,
                 const double *t,
                 const double *v,
                 GError      **error)
{
  WbVelocity *vel;

  if (n == 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "velocity: no values");
      return NULL;
    }
  for (guint i = 0; i < n; i++)
    {
      if (!isfinite (v[i]) || v[i] <= 0)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "velocity: value %u must be > 0 m/s, got %g", i + 1, v[i]);
          return NULL;
        }
      if (!isfinite (t[i]) || (i > 0 && t[i] <= t[i - 1]))
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "velocity: times must increase, got %g after %g",
                       t[i], i > 0 ? t[i - 1] : 0.0);
          return NULL;
        }
    }
  vel = g_new0 (WbVelocity, 1);
  vel->n = n;
  vel->t = g_memdup2 (t, sizeof (double) * n);
  vel->v = g_memdup2 (v, sizeof (double) * n);
  return vel;
}

WbVelocity *
wb_velocity_parse (const char  *spec,
                   GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(GArray) ts = NULL;
  g_autoptr(GArray) vs = NULL;
  g_auto(GStrv) lines = NULL;
  char *end = NULL;
  double value;

  value = g_ascii_strtod (spec, &end);
  if (end != spec && *end == '\0')
    {
      if (!isfinite (value) || value <= 0)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "velocity: must be > 0 m/s, got %s", spec);
          return NULL;
        }
      return wb_velocity_new_constant (value);
    }

  if (!g_file_get_contents (spec, &contents, NULL, &local))
    {
      g_set_error (error, WB_ERROR,
                   g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                   ? WB_ERROR_NOT_FOUND : WB_ERROR_IO,
                   "velocity '%s': neither a number nor a readable file (%s)",
                   spec, local->message);
      return NULL;
    }
  ts = g_array_new (FALSE, FALSE, sizeof (double));
  vs = g_array_new (FALSE, FALSE, sizeof (double));
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      char *p, *q;
      double t, v;

      if (*line == '\0' || *line == '#')
        continue;
      t = g_ascii_strtod (line, &p);
      v = (p != line) ? g_ascii_strtod (p, &q) : 0;
      if (p == line || q == p || *g_strchug (q) != '\0')
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "%s:%u: expected two numbers \"t v\" (seconds, m/s)",
                       spec, i + 1);
          return NULL;
        }
      g_array_append_val (ts, t);
      g_array_append_val (vs, v);
    }
  {
    g_autoptr(GError) inner = NULL;
    WbVelocity *vel = wb_velocity_new (ts->len, (double *) ts->data,
                                       (double *) vs->data, &inner);
    if (vel == NULL)
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "%s: %s", spec,
                   inner->message);
    return vel;
  }
}

WbVelocity *
wb_velocity_scaled (const WbVelocity *velocity,
                    double            factor)
{
  WbVelocity *vel = g_new0 (WbVelocity, 1);

  vel->n = velocity->n;
  vel->t = g_memdup2 (velocity->t, sizeof (double) * vel->n);
  vel->v = g_new (double, vel->n);
  for (guint i = 0; i < vel->n; i++)
    vel->v[i] = velocity->v[i] * factor;
  return vel;
}

double
wb_velocity_at (const WbVelocity *velocity,
                double            t)
{
  guint lo = 0, hi;

  if (velocity->n == 1 || t <= velocity->t[0])
    return velocity->v[0];
  if (t >= velocity->t[velocity->n - 1])
    return velocity->v[velocity->n - 1];
  hi = velocity->n - 1;
  while (hi - lo > 1)
    {
      guint mid = (lo + hi) / 2;
      if (velocity->t[mid] <= t)
        lo = mid;
      else
        hi = mid;
    }
  return velocity->v[lo] + (velocity->v[hi] - velocity->v[lo])
         * (t - velocity->t[lo]) / (velocity->t[hi] - velocity->t[lo]);
}

void
wb_velocity_free (WbVelocity *velocity)
{
  if (velocity == NULL)
    return;
  g_free (velocity->t);
  g_free (velocity->v);
  g_free (velocity);
}

/* --- input ------------------------------------------------------------- */

struct _WbPstmInput
{
  gatomicrefcount  ref_count;
  WbSegyGeometry  *geom;
  char            *path;        /* SEG-Y input, or NULL */
  guint64          file_size;
  gint64           mtime;
  float           *samples;     /* memory input, or NULL */
};

WbPstmInput *
wb_pstm_input_new_segy (const char         *path,
                        const WbSegyLayout *layout,
                        WbSegyScanFunc      progress,
                        gpointer            user_data,
                        GCancellable       *cancellable,
                        GError            **error)
{
  g_autoptr(WbSegyReader) reader = wb_segy_reader_open (path, error);
  WbPstmInput *input;
  WbSegyGeometry *geom;
  GStatBuf st;

  if (reader == NULL)
    return NULL;
  geom = wb_segy_scan (reader, layout, progress, user_data, cancellable, error);
  if (geom == NULL)
    return NULL;
  if (geom->n_samples < 2)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s: traces of %u sample; migration needs at least 2",
                   path, geom->n_samples);
      wb_segy_geometry_free (geom);
      return NULL;
    }
  input = g_new0 (WbPstmInput, 1);
  g_atomic_ref_count_init (&input->ref_count);
  input->geom = geom;
  input->path = g_strdup (path);
  input->file_size = wb_segy_reader_file_size (reader);
  if (g_stat (path, &st) == 0)
    input->mtime = st.st_mtime;
  return input;
}

WbPstmInput *
wb_pstm_input_new_memory (WbSegyGeometry *geometry,
                          float          *samples)
{
  WbPstmInput *input = g_new0 (WbPstmInput, 1);

  g_atomic_ref_count_init (&input->ref_count);
  input->geom = geometry;
  input->samples = samples;
  return input;
}

WbPstmInput *
wb_pstm_input_ref (WbPstmInput *input)
{
  g_atomic_ref_count_inc (&input->ref_count);
  return input;
}

void
wb_pstm_input_unref (WbPstmInput *input)
{
  if (input == NULL || !g_atomic_ref_count_dec (&input->ref_count))
    return;
  wb_segy_geometry_free (input->geom);
  g_free (input->path);
  g_free (input->samples);
  g_free (input);
}

const WbSegyGeometry *
wb_pstm_input_geometry (const WbPstmInput *input)
{
  return input->geom;
}

/* Each worker reads through its own cursor: file handles are not shared
 * between threads. */
typedef struct
{
  WbPstmInput  *input;
  WbSegyReader *reader;
} Cursor;

static gboolean
cursor_read (Cursor   *cursor,
             gsize     index,
             float    *out,
             GError  **error)
{
  WbPstmInput *input = cursor->input;
  guint ns = input->geom->n_samples;

  if (input->samples != NULL)
    {
      memcpy (out, input->samples + index * ns, sizeof (float) * ns);
      return TRUE;
    }
  if (cursor->reader == NULL)
    {
      cursor->reader = wb_segy_reader_open (input->path, error);
      if (cursor->reader == NULL)
        return FALSE;
      if (wb_segy_reader_n_traces (cursor->reader) != input->geom->n_traces
          || wb_segy_reader_n_samples (cursor->reader) != ns)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_IO,
                       "%s: the file changed since it was scanned", input->path);
          return FALSE;
        }
    }
  return wb_segy_reader_trace (cursor->reader, index, out, error);
}

/* --- parameters ------------------------------------------------------- */

void
wb_pstm_params_init (WbPstmParams *params)
{
  memset (params, 0, sizeof *params);
  params->dx = params->dy = 25;
  params->nx = params->ny = 1;
  params->dt = 0.004;
  params->nt = 1;
  params->max_dip = 60;
  params->aperture_min = 0;
  params->aperture_max = 2000;
  params->taper = 0.1;
  params->derivative = TRUE;
  params->obliquity = TRUE;
  params->memory_budget = 256u << 20;
  params->batch_seconds = 0.2;
  params->checkpoint_interval = 30;
}

void
wb_pstm_params_clear (WbPstmParams *params)
{
  g_clear_pointer (&params->checkpoint, g_free);
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Smallest spacing between distinct midpoint coordinates (on a sample of
 * traces), the natural bin size of a regular survey. */
static double
midpoint_spacing (const WbSegyGeometry *g, int axis)
{
  gsize n = MIN (g->n_traces, 200000);
  gsize stride = MAX (1, g->n_traces / n);
  g_autofree double *m = g_new (double, n);
  double best = G_MAXDOUBLE;

  for (gsize i = 0; i < n; i++)
    {
      gsize t = i * stride;
      m[i] = axis == 0 ? 0.5 * ((double) g->sx[t] + g->rx[t])
                       : 0.5 * ((double) g->sy[t] + g->ry[t]);
    }
  qsort (m, n, sizeof (double), compare_double);
  for (gsize i = 1; i < n; i++)
    {
      double d = m[i] - m[i - 1];
      if (d > 1e-3 && d < best)
        best = d;
    }
  return best;
}

gboolean
wb_pstm_params_auto_grid (WbPstmParams      *params,
                          const WbPstmInput *input,
                          double             dx,
                          double             dy,
                          GError           **error)
{
  const WbSegyGeometry *g = input->geom;
  double extent[2], d[2] = { dx, dy };
  guint n[2];
  float min_delay = G_MAXFLOAT;

  for (int a = 0; a < 2; a++)
    {
      extent[a] = g->mid_max[a] - g->mid_min[a];
      if (d[a] <= 0)
        {
          d[a] = midpoint_spacing (g, a);
          if (d[a] == G_MAXDOUBLE)
            d[a] = d[1 - a] > 0 && d[1 - a] != G_MAXDOUBLE ? d[1 - a] : MAX (extent[a] / 100, 1.0);
        }
      if (extent[a] / d[a] > 100000)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                       "output grid: %.0f m of midpoints in %s at %g m bins is "
                       "over 100000 bins; choose larger bins",
                       extent[a], a == 0 ? "x" : "y", d[a]);
          return FALSE;
        }
      n[a] = (guint) floor (extent[a] / d[a] + 0.5) + 1;
    }
  /* A degenerate axis (a line survey) takes the other axis' bin. */
  if (extent[0] == 0 && dx <= 0)
    d[0] = d[1];
  if (extent[1] == 0 && dy <= 0)
    d[1] = d[0];

  for (gsize i = 0; i < g->n_traces; i++)
    min_delay = MIN (min_delay, g->delay[i]);

  params->x0 = g->origin_x + g->mid_min[0];
  params->y0 = g->origin_y + g->mid_min[1];
  params->dx = d[0];
  params->dy = d[1];
  params->nx = n[0];
  params->ny = n[1];
  params->t0 = min_delay;
  params->dt = g->dt;
  params->nt = g->n_samples;
  return TRUE;
}

gboolean
wb_pstm_params_check (const WbPstmParams *p,
                      GError            **error)
{
#define REFUSE(...) G_STMT_START { \
    g_set_error (error, WB_ERROR, WB_ERROR_INVALID, __VA_ARGS__); \
    return FALSE; } G_STMT_END

  if (!(p->dx > 0 && isfinite (p->dx)) || !(p->dy > 0 && isfinite (p->dy)))
    REFUSE ("output grid: bin sizes must be > 0 m, got %g x %g", p->dx, p->dy);
  if (p->nx == 0 || p->ny == 0 || p->nt == 0)
    REFUSE ("output grid: %u x %u x %u samples; each must be >= 1", p->nx, p->ny, p->nt);
  if (!(p->dt > 0 && isfinite (p->dt)))
    REFUSE ("output times: interval must be > 0 s, got %g", p->dt);
  if (!(p->t0 >= 0 && isfinite (p->t0)))
    REFUSE ("output times: first time must be >= 0 s, got %g", p->t0);
  if (!(p->max_dip > 0 && p->max_dip < 90))
    REFUSE ("max_dip: must be in (0, 90) degrees, got %g", p->max_dip);
  if (!(p->aperture_min >= 0) || !(p->aperture_max >= p->aperture_min)
      || !(p->aperture_max > 0) || !isfinite (p->aperture_max))
    REFUSE ("aperture: need 0 <= min <= max and max > 0, got min %g m, max %g m",
            p->aperture_min, p->aperture_max);
  if (!(p->taper >= 0 && p->taper <= 1))
    REFUSE ("taper: must be a fraction of the aperture in [0, 1], got %g", p->taper);
  if (!(p->aa_dx >= 0))
    REFUSE ("anti-aliasing trace spacing: must be >= 0 m, got %g", p->aa_dx);
  if (p->memory_budget < (1u << 20))
    REFUSE ("memory budget: must be at least 1 MiB, got %" G_GUINT64_FORMAT " bytes",
            p->memory_budget);
  if (!(p->batch_seconds > 0))
    REFUSE ("batch duration: must be > 0 s, got %g", p->batch_seconds);
  if (!(p->checkpoint_interval >= 0))
    REFUSE ("checkpoint interval: must be >= 0 s, got %g", p->checkpoint_interval);
  if ((guint64) p->nx * p->ny * p->nt > ((guint64) 1 << 31))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                   "output grid: %u x %u x %u samples is over 2^31", p->nx, p->ny, p->nt);
      return FALSE;
    }
  {
    /* The image and the fold live in host memory (8 bytes a sample): refuse
     * what would not fit in half of it rather than abort in malloc. */
    long pages = sysconf (_SC_PHYS_PAGES), page = sysconf (_SC_PAGESIZE);
    guint64 need = 8 * (guint64) p->nx * p->ny * p->nt;

    if (pages > 0 && page > 0 && need > (guint64) pages * page / 2)
      {
        g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                     "output grid: %u x %u x %u samples need %" G_GUINT64_FORMAT " MiB for "
                     "image and fold, over half of this machine's memory (%" G_GUINT64_FORMAT " MiB)",
                     p->nx, p->ny, p->nt, need >> 20, ((guint64) pages * page) >> 20);
        return FALSE;
      }
  }
  return TRUE;
#undef REFUSE
}

/* --- job --------------------------------------------------------------- */

typedef struct
{
  guint           i0, j0, ni, nj;
  gsize           n_traces;      /* planned */
  WbPstmTileState state;
} Tile;

struct _WbPstmJob
{
  WbPstmInput  *input;
  WbPstmParams  params;
  GPtrArray    *devices;
  char         *kernel_dir;

  /* Per output time: t0, vrms, aperture radius, inner (untapered) radius,
   * as floats: both backends decide "in aperture" from the same numbers. */
  float        *otab;
  double        gather_radius;
  float        *col_x;           /* [nx] local metres */
  float        *col_y;           /* [ny] */
  guint         tile_nx, tile_ny, ntx, nty, n_tiles;
  Tile         *tiles;
  guint         batch_max;
  guint         batch_mem;       /* traces that fit in the batch half of the budget */
  guint         aa_pad;          /* padding of the integrated traces, samples */
  guint32      *bucket_start;    /* [n_tiles + 1] into bucket_traces */
  guint32      *bucket_traces;   /* trace indices by home tile, file order */
  guint         reach_x, reach_y;
  guint8        fingerprint[32];

  WbField      *image;
  WbField      *fold;

  GMutex        lock;
  guint         next_tile;
  gboolean      paused;
  gboolean      stop;
  GError       *error;
  GCancellable *cancellable;
  WbPstmProgressFunc progress;
  gpointer      progress_data;
  gint64        start_us;
  gint64        last_checkpoint_us;
  guint64       traces_done, traces_total;
  guint64       contributions_done, contributions_total;
  guint64       live_contributions;
  double        kernel_seconds;
  double        setup_seconds;
  double        tune_seconds;    /* measuring launch configurations */
  double        load_seconds;    /* host: reading and pre-filtering traces */
  double        store_seconds;   /* host: tiles into the image */
  double        lists_seconds;   /* host: block lists for the launches */
  double        teardown_seconds;
  guint64       tune_trial;      /* contributions per tuning trial launch */
  gboolean      normalized;
  guint         tiles_done, tiles_computed, tiles_resumed;
  double        run_seconds;
};

static double
now_s (void)
{
  return g_get_monotonic_time () * 1e-6;
}

static void
tile_extent (const WbPstmJob *job, const Tile *tile, double *lo, double *hi)
{
  lo[0] = job->col_x[tile->i0];
  hi[0] = job->col_x[tile->i0 + tile->ni - 1];
  lo[1] = job->col_y[tile->j0];
  hi[1] = job->col_y[tile->j0 + tile->nj - 1];
}

/* Whether trace @t may reach a column of @tile: its midpoint lies within
 * the largest aperture of the tile's columns.  A superset of what the
 * kernels then accept per output sample. */
static gboolean
trace_near_tile (const WbPstmJob *job, gsize t, const Tile *tile)
{
  const WbSegyGeometry *g = job->input->geom;
  double lo[2], hi[2], m[2], dd = 0;

  tile_extent (job, tile, lo, hi);
  m[0] = 0.5 * ((double) g->sx[t] + g->rx[t]);
  m[1] = 0.5 * ((double) g->sy[t] + g->ry[t]);
  for (int a = 0; a < 2; a++)
    {
      double e = MAX (MAX (lo[a] - m[a], m[a] - hi[a]), 0);
      dd += e * e;
    }
  return dd <= job->gather_radius * job->gather_radius;
}

/* Traces are bucketed by the tile holding (or, outside the grid, nearest
 * to) their midpoint, in file order within a bucket: a tile then looks only
 * at the buckets within reach of its aperture instead of every trace. */
static void
bucket_traces (WbPstmJob *job)
{
  const WbSegyGeometry *g = job->input->geom;
  const WbPstmParams *p = &job->params;
  g_autofree guint32 *home = g_new (guint32, g->n_traces);
  g_autofree guint32 *fill = NULL;

  job->bucket_start = g_new0 (guint32, job->n_tiles + 1);
  job->bucket_traces = g_new (guint32, g->n_traces);
  for (gsize t = 0; t < g->n_traces; t++)
    {
      double mx = 0.5 * ((double) g->sx[t] + g->rx[t]);
      double my = 0.5 * ((double) g->sy[t] + g->ry[t]);
      double fi = floor ((mx - job->col_x[0]) / p->dx + 0.5);
      double fj = floor ((my - job->col_y[0]) / p->dy + 0.5);
      guint i = (guint) CLAMP (fi, 0, p->nx - 1);
      guint j = (guint) CLAMP (fj, 0, p->ny - 1);

      home[t] = (j / job->tile_ny) * job->ntx + i / job->tile_nx;
      job->bucket_start[home[t] + 1]++;
    }
  for (guint b = 0; b < job->n_tiles; b++)
    job->bucket_start[b + 1] += job->bucket_start[b];
  fill = g_memdup2 (job->bucket_start, sizeof (guint32) * job->n_tiles);
  for (gsize t = 0; t < g->n_traces; t++)
    job->bucket_traces[fill[home[t]]++] = (guint32) t;
  /* Tiles to look at on each side: one more than the radius spans. */
  job->reach_x = (guint) ceil (job->gather_radius / (job->tile_nx * p->dx)) + 1;
  job->reach_y = (guint) ceil (job->gather_radius / (job->tile_ny * p->dy)) + 1;
}

static int
compare_u32 (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return (x > y) - (x < y);
}

/* The traces of tile @index, ascending (file order: every output sample
 * adds its traces in that order, whatever the tiling).  With @list NULL,
 * only counts them. */
static gsize
gather_tile (const WbPstmJob *job, guint index, GArray *list)
{
  const Tile *tile = &job->tiles[index];
  guint tx = index % job->ntx, ty = index / job->ntx;
  guint a0 = tx > job->reach_x ? tx - job->reach_x : 0;
  guint b0 = ty > job->reach_y ? ty - job->reach_y : 0;
  guint a1 = MIN (tx + job->reach_x, job->ntx - 1);
  guint b1 = MIN (ty + job->reach_y, job->nty - 1);
  gsize n = 0;

  for (guint b = b0; b <= b1; b++)
    for (guint a = a0; a <= a1; a++)
      {
        guint bucket = b * job->ntx + a;
        for (guint32 k = job->bucket_start[bucket]; k < job->bucket_start[bucket + 1]; k++)
          {
            guint32 t = job->bucket_traces[k];
            if (!trace_near_tile (job, t, tile))
              continue;
            n++;
            if (list != NULL)
              g_array_append_val (list, t);
          }
      }
  if (list != NULL)
    g_array_sort (list, compare_u32);
  return n;
}

static void
plan_tiles (WbPstmJob *job)
{
  bucket_traces (job);
  for (guint i = 0; i < job->n_tiles; i++)
    job->tiles[i].n_traces = gather_tile (job, i, NULL);
}

static void
compute_fingerprint (WbPstmJob *job, const WbVelocity *velocity)
{
  const WbPstmParams *p = &job->params;
  const WbSegyGeometry *g = job->input->geom;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize len = sizeof job->fingerprint;
  struct
  {
    double x0, y0, dx, dy, t0, dt, dip, amin, amax, taper, aa_dx;
    guint32 nx, ny, nt, tile_nx, tile_ny;
    guint32 flags;
    guint64 n_traces;
    guint32 ns;
    double sdt, ox, oy;
    guint64 file_size;
    gint64 mtime;
  } key;

  memset (&key, 0, sizeof key);
  key.x0 = p->x0; key.y0 = p->y0; key.dx = p->dx; key.dy = p->dy;
  key.t0 = p->t0; key.dt = p->dt; key.dip = p->max_dip;
  key.amin = p->aperture_min; key.amax = p->aperture_max;
  key.taper = p->taper; key.aa_dx = p->aa_dx;
  key.nx = p->nx; key.ny = p->ny; key.nt = p->nt;
  key.tile_nx = job->tile_nx; key.tile_ny = job->tile_ny;
  key.flags = p->derivative | p->obliquity << 1 | p->spreading << 2 | p->antialias << 3;
  key.n_traces = g->n_traces; key.ns = g->n_samples; key.sdt = g->dt;
  key.ox = g->origin_x; key.oy = g->origin_y;
  key.file_size = job->input->file_size;
  key.mtime = job->input->mtime;

  g_checksum_update (sum, (const guchar *) PACKAGE_VERSION, -1);
  g_checksum_update (sum, (const guchar *) &key, sizeof key);
  g_checksum_update (sum, (const guchar *) velocity->t, sizeof (double) * velocity->n);
  g_checksum_update (sum, (const guchar *) velocity->v, sizeof (double) * velocity->n);
  g_checksum_update (sum, (const guchar *) job->otab, sizeof (float) * 4 * p->nt);
  g_checksum_update (sum, (const guchar *) g->sx, sizeof (float) * g->n_traces);
  g_checksum_update (sum, (const guchar *) g->sy, sizeof (float) * g->n_traces);
  g_checksum_update (sum, (const guchar *) g->rx, sizeof (float) * g->n_traces);
  g_checksum_update (sum, (const guchar *) g->ry, sizeof (float) * g->n_traces);
  g_checksum_update (sum, (const guchar *) g->delay, sizeof (float) * g->n_traces);
  if (job->input->samples != NULL)
    g_checksum_update (sum, (const guchar *) job->input->samples,
                       sizeof (float) * g->n_traces * g->n_samples);
  g_checksum_get_digest (sum, job->fingerprint, &len);
}

/* Writes image, fold and the done flags; the caller holds the lock. */
static gboolean
write_checkpoint (WbPstmJob *job, GError **error)
{
  const WbPstmParams *p = &job->params;
  gsize n = wb_field_n_elements (job->image);
  g_autofree guint8 *done = g_new0 (guint8, job->n_tiles);
  guint32 dims[4] = { p->nx, p->ny, p->nt, job->n_tiles };
  WbAtomicFile *file;
  FILE *f;

  for (guint i = 0; i < job->n_tiles; i++)
    done[i] = job->tiles[i].state == WB_PSTM_TILE_DONE
              || job->tiles[i].state == WB_PSTM_TILE_RESUMED;
  file = wb_atomic_file_open (p->checkpoint, error);
  if (file == NULL)
    return FALSE;
  f = wb_atomic_file_stream (file);
  if (fwrite (CHECKPOINT_MAGIC, 1, 8, f) != 8
      || fwrite (job->fingerprint, 1, sizeof job->fingerprint, f) != sizeof job->fingerprint
      || fwrite (dims, sizeof dims, 1, f) != 1
      || fwrite (done, 1, job->n_tiles, f) != job->n_tiles
      || fwrite (job->image->data, sizeof (float), n, f) != n
      || fwrite (job->fold->data, sizeof (float), n, f) != n)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_IO, "%s: write failed: %s",
                   p->checkpoint, g_strerror (errno));
      wb_atomic_file_abort (file);
      return FALSE;
    }
  job->last_checkpoint_us = g_get_monotonic_time ();
  return wb_atomic_file_commit (file, error);
}

static gboolean
load_checkpoint (WbPstmJob *job, GError **error)
{
  const WbPstmParams *p = &job->params;
  g_autofree char *data = NULL;
  g_autoptr(GError) local = NULL;
  gsize len, n = wb_field_n_elements (job->image);
  gsize header = 8 + sizeof job->fingerprint + 16;
  guint32 dims[4];

  if (!g_file_get_contents (p->checkpoint, &data, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;    /* nothing to resume: a fresh run */
      g_set_error (error, WB_ERROR, WB_ERROR_IO, "checkpoint %s", local->message);
      return FALSE;
    }
  if (len < header || memcmp (data, CHECKPOINT_MAGIC, 8) != 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "checkpoint %s: not a Wavebench migration checkpoint", p->checkpoint);
      return FALSE;
    }
  memcpy (dims, data + 8 + sizeof job->fingerprint, sizeof dims);
  if (memcmp (data + 8, job->fingerprint, sizeof job->fingerprint) != 0
      || dims[0] != p->nx || dims[1] != p->ny || dims[2] != p->nt
      || dims[3] != job->n_tiles)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "checkpoint %s: made for other parameters, tiles or input; "
                   "delete it or run without resuming", p->checkpoint);
      return FALSE;
    }
  if (len != header + job->n_tiles + 2 * n * sizeof (float))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "checkpoint %s: truncated (%" G_GSIZE_FORMAT " bytes)",
                   p->checkpoint, len);
      return FALSE;
    }
  memcpy (job->image->data, data + header + job->n_tiles, n * sizeof (float));
  memcpy (job->fold->data, data + header + job->n_tiles + n * sizeof (float),
          n * sizeof (float));
  for (guint i = 0; i < job->n_tiles; i++)
    if (data[header + i])
      job->tiles[i].state = WB_PSTM_TILE_RESUMED;
  return TRUE;
}

WbPstmJob *
wb_pstm_job_new (WbPstmInput        *input,
                 const WbPstmParams *params,
                 const WbVelocity   *velocity,
                 GPtrArray          *devices,
                 const char         *kernel_dir,
                 GError            **error)
{
  g_autoptr(WbPstmJob) job = NULL;
  const WbSegyGeometry *g = input->geom;
  WbPstmParams *p;
  double tan_dip, max_radius = 0;
  guint64 half_budget, per_column, per_trace, columns;
  gsize shape[3];
  double spacing[3];

  g_return_val_if_fail (input != NULL && params != NULL && velocity != NULL, NULL);
  g_return_val_if_fail (devices != NULL, NULL);

  if (!wb_pstm_params_check (params, error))
    return NULL;
  if (devices->len == 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "migration: no device given");
      return NULL;
    }
  if (g->n_samples < 2)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "migration: traces need at least 2 samples, got %u", g->n_samples);
      return NULL;
    }

  job = g_new0 (WbPstmJob, 1);
  g_mutex_init (&job->lock);
  job->input = wb_pstm_input_ref (input);
  job->params = *params;
  p = &job->params;
  p->checkpoint = g_strdup (params->checkpoint);
  job->devices = g_ptr_array_new_with_free_func ((GDestroyNotify) wb_device_unref);
  for (guint i = 0; i < devices->len; i++)
    g_ptr_array_add (job->devices, wb_device_ref (devices->pdata[i]));
  job->kernel_dir = g_strdup (kernel_dir);
  if (p->aa_dx == 0)
    p->aa_dx = MAX (p->dx, p->dy);

  job->otab = g_new (float, 4 * (gsize) p->nt);
  tan_dip = tan (p->max_dip * G_PI / 180);
  for (guint k = 0; k < p->nt; k++)
    {
      double t0 = p->t0 + k * p->dt;
      double v = wb_velocity_at (velocity, t0);
      double r = CLAMP (0.5 * v * t0 * tan_dip, p->aperture_min, p->aperture_max);

      job->otab[4 * k + 0] = t0;
      job->otab[4 * k + 1] = v;
      job->otab[4 * k + 2] = r;
      job->otab[4 * k + 3] = (float) r * (float) (1 - p->taper);
      max_radius = MAX (max_radius, job->otab[4 * k + 2]);
    }
  /* Slightly wider than any radius the kernels use, against rounding. */
  job->gather_radius = max_radius * (1 + 1e-5) + 1e-3;

  job->col_x = g_new (float, p->nx);
  job->col_y = g_new (float, p->ny);
  for (guint i = 0; i < p->nx; i++)
    job->col_x[i] = (p->x0 - g->origin_x) + i * p->dx;
  for (guint j = 0; j < p->ny; j++)
    job->col_y[j] = (p->y0 - g->origin_y) + j * p->dy;

  /* Anti-aliasing reads the integrated trace at u +- L with L = |grad t|
   * aa_dx / dt and |grad t| <= 2 / v (each leg at most 1 / v): pad that
   * much, plus a guard, so that no read is clamped. */
  if (p->antialias)
    {
      double vmin = G_MAXDOUBLE;
      for (guint k = 0; k < p->nt; k++)
        vmin = MIN (vmin, job->otab[4 * k + 1]);
      job->aa_pad = (guint) ceil (2 * p->aa_dx / (vmin * g->dt)) + 2;
      if (job->aa_pad > 100000)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "anti-aliasing: a trace spacing of %g m at %g m/s spans %u samples; "
                       "give a smaller spacing", p->aa_dx, vmin, job->aa_pad);
          return NULL;
        }
    }

  /* Half the budget for a tile's image and fold, half for trace batches. */
  half_budget = p->memory_budget / 2;
  per_column = 8 * (guint64) p->nt + 8;
  per_trace = 4 * (guint64) g->n_samples + 20
              + (p->antialias ? 4 * ((guint64) g->n_samples + 2 * job->aa_pad) : 0);
  columns = half_budget / per_column;
  if (columns == 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                   "memory budget: %" G_GUINT64_FORMAT " bytes cannot hold one "
                   "output column of %u samples (needs %" G_GUINT64_FORMAT ")",
                   p->memory_budget, p->nt, 2 * per_column);
      return NULL;
    }
  if (p->tile_nx > 0 && p->tile_ny > 0)
    {
      job->tile_nx = MIN (p->tile_nx, p->nx);
      job->tile_ny = MIN (p->tile_ny, p->ny);
      if ((guint64) job->tile_nx * job->tile_ny > columns)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                       "tile: %u x %u columns of %u samples need %" G_GUINT64_FORMAT
                       " MiB, over half the memory budget (%" G_GUINT64_FORMAT " MiB)",
                       job->tile_nx, job->tile_ny, p->nt,
                       ((guint64) job->tile_nx * job->tile_ny * per_column) >> 20,
                       half_budget >> 20);
          return NULL;
        }
    }
  else
    {
      /* Square tiles as large as the budget allows, but not much wider
       * than the aperture: every trace gathered by a tile is evaluated for
       * every one of its samples, so tiles far wider than the aperture
       * spend most of the work on traces out of reach. */
      double side = MAX (1, floor (sqrt ((double) columns)));
      double reach = MAX (8, ceil (2 * job->gather_radius / MIN (p->dx, p->dy)));

      side = MIN (side, reach);
      job->tile_nx = (guint) MIN (side, p->nx);
      job->tile_ny = (guint) MIN ((double) p->ny, MAX (1, MIN (side, (double) (columns / job->tile_nx))));
    }
  job->ntx = (p->nx + job->tile_nx - 1) / job->tile_nx;
  job->nty = (p->ny + job->tile_ny - 1) / job->tile_ny;
  job->n_tiles = job->ntx * job->nty;
  job->tiles = g_new0 (Tile, job->n_tiles);
  for (guint b = 0; b < job->nty; b++)
    for (guint a = 0; a < job->ntx; a++)
      {
        Tile *tile = &job->tiles[b * job->ntx + a];
        tile->i0 = a * job->tile_nx;
        tile->j0 = b * job->tile_ny;
        tile->ni = MIN (job->tile_nx, p->nx - tile->i0);
        tile->nj = MIN (job->tile_ny, p->ny - tile->j0);
      }

  job->batch_max = (guint) CLAMP (half_budget / per_trace, 1, 1u << 20);
  job->batch_mem = job->batch_max;
  if (p->batch_traces > 0)
    job->batch_max = MIN (job->batch_max, p->batch_traces);

  plan_tiles (job);
  compute_fingerprint (job, velocity);

  shape[0] = p->nx; shape[1] = p->ny; shape[2] = p->nt;
  spacing[0] = p->dx; spacing[1] = p->dy; spacing[2] = p->dt;
  job->image = wb_field_new ("image", "", 3, shape, spacing);
  job->fold = wb_field_new ("fold", "", 3, shape, spacing);
  job->image->origin[0] = job->fold->origin[0] = p->x0;
  job->image->origin[1] = job->fold->origin[1] = p->y0;
  job->image->origin[2] = job->fold->origin[2] = p->t0;
  memset (job->image->data, 0, sizeof (float) * wb_field_n_elements (job->image));
  memset (job->fold->data, 0, sizeof (float) * wb_field_n_elements (job->fold));

  if (p->checkpoint != NULL && p->resume && !load_checkpoint (job, error))
    return NULL;

  return g_steal_pointer (&job);
}

void
wb_pstm_job_free (WbPstmJob *job)
{
  if (job == NULL)
    return;
  g_clear_pointer (&job->input, wb_pstm_input_unref);
  wb_pstm_params_clear (&job->params);
  g_clear_pointer (&job->devices, g_ptr_array_unref);
  g_free (job->kernel_dir);
  g_free (job->otab);
  g_free (job->col_x);
  g_free (job->col_y);
  g_free (job->tiles);
  g_free (job->bucket_start);
  g_free (job->bucket_traces);
  g_clear_pointer (&job->image, wb_field_unref);
  g_clear_pointer (&job->fold, wb_field_unref);
  g_clear_error (&job->error);
  g_mutex_clear (&job->lock);
  g_free (job);
}

void
wb_pstm_job_set_progress (WbPstmJob          *job,
                          WbPstmProgressFunc  func,
                          gpointer            user_data)
{
  job->progress = func;
  job->progress_data = user_data;
}

void
wb_pstm_job_set_paused (WbPstmJob *job,
                        gboolean   paused)
{
  g_mutex_lock (&job->lock);
  job->paused = paused;
  g_mutex_unlock (&job->lock);
}

guint
wb_pstm_job_n_tiles (const WbPstmJob *job)
{
  return job->n_tiles;
}

void
wb_pstm_job_tile_rect (const WbPstmJob *job,
                       guint            index,
                       guint           *i0,
                       guint           *j0,
                       guint           *ni,
                       guint           *nj)
{
  const Tile *tile;

  g_return_if_fail (index < job->n_tiles);
  tile = &job->tiles[index];
  if (i0) *i0 = tile->i0;
  if (j0) *j0 = tile->j0;
  if (ni) *ni = tile->ni;
  if (nj) *nj = tile->nj;
}

WbPstmTileState
wb_pstm_job_tile_state (WbPstmJob *job,
                        guint      index)
{
  WbPstmTileState state;

  g_return_val_if_fail (index < job->n_tiles, WB_PSTM_TILE_PENDING);
  g_mutex_lock (&job->lock);
  state = job->tiles[index].state;
  g_mutex_unlock (&job->lock);
  return state;
}

gsize
wb_pstm_job_tile_traces (const WbPstmJob *job,
                         guint            index)
{
  g_return_val_if_fail (index < job->n_tiles, 0);
  return job->tiles[index].n_traces;
}

WbField *
wb_pstm_job_get_image (WbPstmJob *job)
{
  return wb_field_ref (job->image);
}

WbField *
wb_pstm_job_get_fold (WbPstmJob *job)
{
  return wb_field_ref (job->fold);
}

void
wb_pstm_job_get_stats (WbPstmJob   *job,
                       WbPstmStats *stats)
{
  g_mutex_lock (&job->lock);
  stats->traces = job->traces_done;
  stats->contributions = job->contributions_done;
  stats->live_contributions = job->live_contributions;
  stats->seconds = job->run_seconds;
  stats->kernel_seconds = job->kernel_seconds;
  stats->setup_seconds = job->setup_seconds;
  stats->tune_seconds = job->tune_seconds;
  stats->load_seconds = job->load_seconds;
  stats->store_seconds = job->store_seconds;
  stats->lists_seconds = job->lists_seconds;
  stats->teardown_seconds = job->teardown_seconds;
  stats->tune_trial_contributions = job->tune_trial;
  stats->tiles_computed = job->tiles_computed;
  stats->tiles_resumed = job->tiles_resumed;
  g_mutex_unlock (&job->lock);
}

double
wb_pstm_flops_per_contribution (const WbPstmParams *p)
{
  /* Two legs th2 + s2 / v^2 (fma, 2 each), two square roots, their sum,
   * (t - t_first) / dt (2). */
  double flops = 4 + 2 + 1 + 2;

  if (p->antialias)
    /* Reciprocals of both legs (2), the time dip gx, gy (8), its length
     * (3 + sqrt 1), times the spacing (1), u + pad and u -+ L (3), three
     * interpolations (3 x 6), 2 A(u) - A(u-L) - A(u+L) (3), / L^2 (2),
     * the product with the weight (1). */
    flops += 2 + 8 + 4 + 1 + 3 + 18 + 3 + 2 + 1;
  else
    /* Linear interpolation: the rounding (2), the fraction (1),
     * s0 + f (s1 - s0) (1 + 2). */
    flops += 6;
  if (p->obliquity || p->spreading)
    flops += 1;                       /* 1 / t */
  if (p->obliquity)
    flops += 2;                       /* t0 / t, into the weight */
  if (p->spreading)
    flops += 2;                       /* 1 / (v t), into the weight */
  flops += 2;                         /* acc += w * sample */
  flops += 16 * (1 - (1 - p->taper) * (1 - p->taper));
  return flops;
}

/* Sends a progress event; the caller holds the lock, which also makes the
 * calls one at a time. */
static void
emit (WbPstmJob       *job,
      WbPstmEventKind  kind,
      guint            tile,
      const char      *device_id,
      gsize            tile_done,
      guint            batch)
{
  WbPstmProgress ev = { 0 };

  if (job->progress == NULL)
    return;
  ev.kind = kind;
  ev.tile = tile;
  ev.n_tiles = job->n_tiles;
  ev.tiles_done = job->tiles_done;
  ev.device_id = device_id;
  ev.tile_traces = job->tiles[tile].n_traces;
  ev.tile_traces_done = tile_done;
  ev.traces_done = job->traces_done;
  ev.traces_total = job->traces_total;
  ev.contributions_done = job->contributions_done;
  ev.contributions_total = job->contributions_total;
  ev.elapsed = now_s () - job->start_us * 1e-6;
  ev.traces_per_s = ev.elapsed > 0 ? job->traces_done / ev.elapsed : 0;
  ev.contributions_per_s = ev.elapsed > 0 ? job->contributions_done / ev.elapsed : 0;
  ev.eta = ev.contributions_per_s > 0
           ? (job->contributions_total - job->contributions_done) / ev.contributions_per_s
           : -1;
  ev.batch_traces = batch;
  job->progress (&ev, job->progress_data);
}

/* --- workers ---------------------------------------------------------- */

/* Host and device copies of a set of pre-filtered traces: a batch when
 * streaming, every trace of the input when they are resident. */
typedef struct
{
  float        *traces;       /* cap * ns, derivative-filtered */
  float        *integ;        /* cap * nsa, double-integrated (antialias) */
  float        *geom;         /* cap * 4 */
  float        *first;        /* cap */
  cl_mem        d_traces, d_integ, d_geom, d_first;
} TraceSet;

typedef struct
{
  cl_event event;
  guint    n;
} InFlight;

/* A tile whose kernels are all enqueued, the last ones maybe still
 * running, and whose read-back is queued behind them: it is accounted
 * for and stored into the job's image once the next tile's first launch
 * is queued, so that the device never waits for the host between tiles. */
typedef struct
{
  gboolean      active;
  guint         tile;
  guint         slot;
  gsize         done;          /* traces summed, launches in flight excluded */
  gsize         tile_samples;
  InFlight      flight[2];     /* its last launches */
  guint         n_flight;
  cl_event      read_event;
} PendingTile;

/* Launches in flight at most: two of the current tile and, while it
 * starts, two of the pending one.  Each has its own block lists. */
#define N_RINGS 4

/* Chunks of a launch's traces whose block lists are built in parallel. */
#define LIST_CHUNKS 16

/* A kernel variant built for this worker. */
typedef struct
{
  char          name[48];     /* "variant:kpw" */
  cl_program    program;
  cl_kernel     kernel;
} Built;

typedef struct
{
  WbPstmJob    *job;
  WbDevice     *device;
  Cursor        cursor;
  gboolean      reference;

  /* OpenCL */
  WbClContext  *cl;
  GArray       *built;        /* Built */
  cl_kernel     kernel;       /* the chosen variant's */
  WbTuneChoice  choice;       /* variant, work-group size, samples per work-item */
  gboolean      contig, native;
  guint         kpw;
  gboolean      tuned;        /* the choice is final for this run */
  cl_mem        d_image, d_fold, d_columns, d_otab, d_col_block;

  gsize         local[2];     /* work-group: along time, one column; 0: the driver's */
  guint         batch;        /* adaptive batch size reached so far */

  /* Traces: resident (every trace uploaded once, set[0] holds them all)
   * or streamed in batches through set[0] and set[1] alternately, so that
   * the host reads and filters one while the device sums the other. */
  gboolean      resident;
  gboolean      resident_loaded;
  guint         batch_cap;    /* traces per set */
  TraceSet      set[2];
  float        *raw;          /* one trace */
  double       *work;         /* nsa doubles for the integration */

  /* Culling: the tile's columns in blocks of block_cols x block_cols; per
   * launch (two in flight), each block's range in a list of trace slots. */
  guint         block_cols;
  guint         max_blocks;
  guint32      *blk_count;     /* [LIST_CHUNKS * max_blocks] scratch */
  guint32      *h_ranges[N_RINGS];   /* [max_blocks * 2] */
  guint32      *h_list[N_RINGS];
  gsize         h_list_cap[N_RINGS];
  cl_mem        d_ranges[N_RINGS], d_list[N_RINGS];
  gsize         d_list_cap[N_RINGS];
  guint         launches;     /* so far in this run: launch L uses ring L % N_RINGS */

  /* Tiles: two host slots, so that tile i is stored while tile i+1 runs. */
  float        *columns[2];   /* max columns * 2 */
  GArray       *tile_list[2]; /* the tile's trace indices */
  guint32      *col_block[2]; /* max columns: each column's block */
  cl_mem        pinned_image[2], pinned_fold[2];
  float        *host_image[2];   /* mapped, or plain memory for the reference */
  guint32      *host_fold[2];
  PendingTile   pending;
  double       *acc;          /* reference: running sums in double */
} Worker;

static void
trace_set_clear (TraceSet *s)
{
  WB_CL_RELEASE (s->d_traces, clReleaseMemObject);
  WB_CL_RELEASE (s->d_integ, clReleaseMemObject);
  WB_CL_RELEASE (s->d_geom, clReleaseMemObject);
  WB_CL_RELEASE (s->d_first, clReleaseMemObject);
  g_clear_pointer (&s->traces, g_free);
  g_clear_pointer (&s->integ, g_free);
  g_clear_pointer (&s->geom, g_free);
  g_clear_pointer (&s->first, g_free);
}

static void
worker_clear (Worker *w)
{
  if (w->pending.active)
    {
      for (guint i = 0; i < w->pending.n_flight; i++)
        {
          clWaitForEvents (1, &w->pending.flight[i].event);
          clReleaseEvent (w->pending.flight[i].event);
        }
      clWaitForEvents (1, &w->pending.read_event);
      WB_CL_RELEASE (w->pending.read_event, clReleaseEvent);
      w->pending.active = FALSE;
    }
  if (w->cl != NULL)
    clFinish (w->cl->queue);
  for (guint s = 0; s < 2; s++)
    {
      trace_set_clear (&w->set[s]);
      if (w->pinned_image[s] != NULL && w->host_image[s] != NULL)
        clEnqueueUnmapMemObject (w->cl->queue, w->pinned_image[s], w->host_image[s], 0, NULL, NULL);
      else
        g_free (w->host_image[s]);
      if (w->pinned_fold[s] != NULL && w->host_fold[s] != NULL)
        clEnqueueUnmapMemObject (w->cl->queue, w->pinned_fold[s], w->host_fold[s], 0, NULL, NULL);
      else
        g_free (w->host_fold[s]);
      w->host_image[s] = NULL;
      w->host_fold[s] = NULL;
      g_free (w->columns[s]);
      w->columns[s] = NULL;
      g_clear_pointer (&w->tile_list[s], g_array_unref);
      g_clear_pointer (&w->col_block[s], g_free);
    }
  for (guint r = 0; r < N_RINGS; r++)
    {
      g_clear_pointer (&w->h_ranges[r], g_free);
      g_clear_pointer (&w->h_list[r], g_free);
      WB_CL_RELEASE (w->d_ranges[r], clReleaseMemObject);
      WB_CL_RELEASE (w->d_list[r], clReleaseMemObject);
    }
  if (w->cl != NULL)
    clFinish (w->cl->queue);
  for (guint s = 0; s < 2; s++)
    {
      WB_CL_RELEASE (w->pinned_image[s], clReleaseMemObject);
      WB_CL_RELEASE (w->pinned_fold[s], clReleaseMemObject);
    }
  WB_CL_RELEASE (w->d_image, clReleaseMemObject);
  WB_CL_RELEASE (w->d_fold, clReleaseMemObject);
  WB_CL_RELEASE (w->d_columns, clReleaseMemObject);
  WB_CL_RELEASE (w->d_otab, clReleaseMemObject);
  WB_CL_RELEASE (w->d_col_block, clReleaseMemObject);
  for (guint i = 0; w->built && i < w->built->len; i++)
    {
      Built *b = &g_array_index (w->built, Built, i);
      WB_CL_RELEASE (b->kernel, clReleaseKernel);
      WB_CL_RELEASE (b->program, clReleaseProgram);
    }
  g_clear_pointer (&w->built, g_array_unref);
  w->kernel = NULL;
  g_clear_pointer (&w->cl, wb_cl_context_unref);
  g_clear_pointer (&w->cursor.reader, wb_segy_reader_free);
  g_free (w->raw);
  g_free (w->work);
  g_free (w->blk_count);
  g_free (w->acc);
}

/* Variants of the kernel (see kernels/pstm.cl): the layout of the samples
 * a work-item owns and the square-root flavour. */
static gboolean
variant_flags (const char *variant, gboolean *contig, gboolean *native, gboolean *prefetch,
               gboolean *branch)
{
  static const struct { const char *name; gboolean contig, native, prefetch, branch; } table[] = {
    { "strided", FALSE, FALSE, FALSE, FALSE },
    { "contig", TRUE, FALSE, FALSE, FALSE },
    { "strided-native", FALSE, TRUE, FALSE, FALSE },
    { "contig-native", TRUE, TRUE, FALSE, FALSE },
    { "strided-pf", FALSE, FALSE, TRUE, FALSE },
    { "strided-native-pf", FALSE, TRUE, TRUE, FALSE },
    { "contig-pf", TRUE, FALSE, TRUE, FALSE },
    { "strided-br", FALSE, FALSE, FALSE, TRUE },
    { "strided-native-br", FALSE, TRUE, FALSE, TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    if (g_str_equal (variant, table[i].name))
      {
        *contig = table[i].contig;
        *native = table[i].native;
        *prefetch = table[i].prefetch;
        *branch = table[i].branch;
        return TRUE;
      }
  return FALSE;
}

/* Builds (once per worker) and selects the kernel for @choice. */
static gboolean
worker_use_choice (Worker *w, const WbTuneChoice *choice, GError **error)
{
  WbPstmJob *job = w->job;
  const WbPstmParams *p = &job->params;
  guint ns = job->input->geom->n_samples;
  gboolean contig, native, prefetch, branch;
  guint kpw = choice->param;
  char name[48];

  if (!variant_flags (choice->variant, &contig, &native, &prefetch, &branch))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "pstm: unknown kernel variant '%s' (strided, strided-native, strided-pf, "
                   "strided-native-pf, strided-br, strided-native-br, contig, contig-native, "
                   "contig-pf)", choice->variant);
      return FALSE;
    }
  /* More private arrays than 32 samples' worth overflow PoCL's work-item
   * stacks. */
  if (kpw < 1 || kpw > 32)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "pstm: %u samples per work-item; expected 1 to 32", kpw);
      return FALSE;
    }
  g_snprintf (name, sizeof name, "%s:%u", choice->variant, kpw);
  w->kernel = NULL;
  for (guint i = 0; i < w->built->len; i++)
    if (g_str_equal (g_array_index (w->built, Built, i).name, name))
      w->kernel = g_array_index (w->built, Built, i).kernel;
  if (w->kernel == NULL)
    {
      g_autofree char *defines = g_strdup_printf ("#define NT %u\n#define NS %u\n"
                                                  "#define OBLIQUITY %d\n"
                                                  "#define SPREADING %d\n"
                                                  "#define ANTIALIAS %d\n"
                                                  "#define AAPAD %u\n"
                                                  "#define KPW %u\n"
                                                  "#define CONTIG %d\n"
                                                  "#define NATIVE %d\n"
                                                  "#define PREFETCH %d\n"
                                                  "#define BRANCH %d\n",
                                                  p->nt, ns, p->obliquity ? 1 : 0,
                                                  p->spreading ? 1 : 0,
                                                  p->antialias ? 1 : 0, job->aa_pad,
                                                  kpw, contig ? 1 : 0, native ? 1 : 0, prefetch ? 1 : 0,
                                                  branch ? 1 : 0);
      Built b = { { 0 }, NULL, NULL };

      g_strlcpy (b.name, name, sizeof b.name);
      b.program = wb_cl_build_program (w->cl, "pstm.cl", defines, NULL, error);
      if (b.program == NULL)
        return FALSE;
      b.kernel = wb_cl_create_kernel (b.program, "pstm_migrate", error);
      if (b.kernel == NULL)
        {
          clReleaseProgram (b.program);
          return FALSE;
        }
      g_array_append_val (w->built, b);
      w->kernel = b.kernel;
    }
  w->choice = *choice;
  w->contig = contig;
  w->native = native;
  w->kpw = kpw;
  w->local[0] = choice->local[0];
  w->local[1] = 1;
  return TRUE;
}

/* Launch configurations to choose from, the default first.  GPUs: native
 * square roots (measured on an H200: faster, and the suite's accuracy and
 * identical fold held), both layouts, work-groups of 32 to 128 and 4 or 8
 * samples per work-item.  CPUs: the contiguous layout, whose loop over
 * samples the compiler vectorises. */
static GArray *
pstm_candidates (const WbDevice *device)
{
  GArray *c = g_array_new (FALSE, TRUE, sizeof (WbTuneChoice));
  WbTuneChoice ch;

#define ADD(v, l, k) G_STMT_START { memset (&ch, 0, sizeof ch); \
    g_strlcpy (ch.variant, v, sizeof ch.variant); ch.local[0] = (l); \
    ch.local[1] = (l) ? 1 : 0; ch.local[2] = (l) ? 1 : 0; ch.param = (k); \
    g_array_append_val (c, ch); } G_STMT_END
  if (device->kind == WB_DEVICE_KIND_CPU)
    {
      /* PoCL 3.1 on 2 Skylake-X cores: 8 work-items (256 samples of a
       * column) per group did best; the loop over 32 samples vectorises
       * into 8-lane AVX (vsqrtps, vgatherdps). */
      ADD ("contig", 8, 32);
      ADD ("contig", 0, 32);
      ADD ("contig", 0, 16);
      ADD ("contig", 16, 16);
      ADD ("contig", 4, 16);
      ADD ("contig-pf", 8, 32);
      ADD ("strided", 64, 4);
    }
  else
    {
      /* H200 sweeps: native square roots +7% with the same fold;
       * loads ahead (-pf) slower; 256-wide groups and 16 samples per
       * work-item slower. */
      ADD ("strided-native", 64, 8);
      ADD ("strided-native", 64, 4);
      ADD ("strided-native", 128, 4);
      ADD ("strided-native", 128, 8);
      ADD ("strided-native", 32, 8);
      ADD ("strided-native-br", 64, 8);
      ADD ("strided-native-br", 64, 4);
      ADD ("strided-native-br", 128, 4);
      ADD ("strided-native-br", 128, 8);
      ADD ("strided-native-br", 32, 8);
      ADD ("contig-native", 64, 4);
      ADD ("contig-native", 128, 4);
      ADD ("contig-native", 64, 8);
      ADD ("contig-native", 32, 8);
      ADD ("strided", 64, 4);
      ADD ("contig", 64, 4);
    }
#undef ADD
  return c;
}

static char *
pstm_tune_key (const WbPstmJob *job)
{
  const WbPstmParams *p = &job->params;

  return g_strdup_printf ("pstm:nt%u:ns%u:o%ds%da%d", p->nt, job->input->geom->n_samples,
                          p->obliquity ? 1 : 0, p->spreading ? 1 : 0, p->antialias ? 1 : 0);
}

static gboolean
worker_setup (Worker *w, GError **error)
{
  WbPstmJob *job = w->job;
  const WbPstmParams *p = &job->params;
  const WbSegyGeometry *g = job->input->geom;
  guint ns = g->n_samples, nsa = ns + 2 * job->aa_pad;
  gsize max_columns = (gsize) job->tile_nx * job->tile_ny;
  guint nsets;

  w->cursor.input = job->input;
  w->reference = wb_device_is_reference (w->device);
  /* Every trace on the device at once when they fit where one batch would
   * go: uploaded once for the whole run instead of once per tile. */
  w->resident = !w->reference && g->n_traces <= job->batch_mem;
  if (w->resident)
    {
      w->batch_cap = (guint) MAX (g->n_traces, 1);
      nsets = 1;
    }
  else if (w->reference)
    {
      w->batch_cap = job->batch_max;
      nsets = 1;
    }
  else
    {
      /* Two sets within the memory of one batch. */
      w->batch_cap = MAX (1, job->batch_mem / 2);
      nsets = 2;
    }
  w->raw = g_new (float, ns);
  w->work = g_new (double, nsa);
  for (guint s = 0; s < nsets; s++)
    {
      TraceSet *set = &w->set[s];
      set->traces = g_new (float, (gsize) w->batch_cap * ns);
      if (p->antialias)
        set->integ = g_new (float, (gsize) w->batch_cap * nsa);
      set->geom = g_new (float, (gsize) w->batch_cap * 4);
      set->first = g_new (float, w->batch_cap);
    }
  for (guint s = 0; s < 2; s++)
    w->columns[s] = g_new (float, max_columns * 2);
  if (w->reference)
    {
      w->host_image[0] = g_new (float, max_columns * p->nt);
      w->host_fold[0] = g_new (guint32, max_columns * p->nt);
      w->acc = g_new (double, max_columns * p->nt);
      return TRUE;
    }

  {
    gsize tile_bytes = max_columns * p->nt * sizeof (float);
    g_autoptr(GArray) candidates = pstm_candidates (w->device);
    g_autofree char *key = pstm_tune_key (job);
    WbTuneResult result;
    double spacing = MAX (p->dx, p->dy);

    /* Blocks about a sixth of the largest aperture wide: a column then
     * looks at traces within 1.2 apertures or so rather than at the whole
     * tile's gather, and a trace lands in some 100 blocks' lists.  At most
     * 16 x 16 blocks a tile (8 x 8 on CPU devices, whose cores the host
     * shares), so that building the lists stays cheap next to the sums
     * when the aperture spans few columns. */
    {
      double side = MAX (job->tile_nx, job->tile_ny);
      double per_axis = w->device->kind == WB_DEVICE_KIND_CPU ? 8 : 16;

      w->block_cols = (guint) CLAMP (MAX (floor (job->gather_radius / (6 * spacing)),
                                          ceil (side / per_axis)), 1, 4096);
    }
    w->max_blocks = ((job->tile_nx + w->block_cols - 1) / w->block_cols)
                    * ((job->tile_ny + w->block_cols - 1) / w->block_cols);
    w->blk_count = g_new (guint32, (gsize) LIST_CHUNKS * w->max_blocks);
    for (guint r = 0; r < N_RINGS; r++)
      w->h_ranges[r] = g_new (guint32, 2 * (gsize) w->max_blocks);
    for (guint s = 0; s < 2; s++)
      w->col_block[s] = g_new (guint32, max_columns);

    w->cl = wb_cl_context_new (w->device, error);
    if (w->cl == NULL)
      return FALSE;
    if (job->kernel_dir != NULL)
      wb_cl_context_set_kernel_dir (w->cl, job->kernel_dir);
    w->built = g_array_new (FALSE, TRUE, sizeof (Built));
    /* The pinned or cached choice, or the default; measuring, if any, is
     * done on the first tile large enough to time (worker_tune). */
    if (!wb_tune_choose (w->device, key, (const WbTuneChoice *) candidates->data, 1, FALSE,
                         NULL, NULL, &result, error))
      return FALSE;
    w->tuned = g_str_equal (result.source, "pinned");
    wb_tune_result_clear (&result);
    if (!worker_use_choice (w, &result.choice, error))
      return FALSE;

    if (!(w->d_image = wb_cl_buffer_new (w->cl, CL_MEM_READ_WRITE, tile_bytes, NULL, "tile image", error))
        || !(w->d_fold = wb_cl_buffer_new (w->cl, CL_MEM_READ_WRITE, tile_bytes, NULL, "tile fold", error))
        || !(w->d_columns = wb_cl_buffer_new (w->cl, CL_MEM_READ_ONLY, max_columns * 2 * sizeof (float), NULL, "column coordinates", error))
        || !(w->d_otab = wb_cl_buffer_new (w->cl, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, 4 * sizeof (float) * p->nt, job->otab, "output times", error))
        || !(w->d_col_block = wb_cl_buffer_new (w->cl, CL_MEM_READ_ONLY, max_columns * sizeof (guint32), NULL, "column blocks", error)))
      return FALSE;
    for (guint r = 0; r < N_RINGS; r++)
      if (!(w->d_ranges[r] = wb_cl_buffer_new (w->cl, CL_MEM_READ_ONLY, 2 * sizeof (guint32) * w->max_blocks, NULL, "block ranges", error)))
        return FALSE;
    for (guint s = 0; s < nsets; s++)
      {
        TraceSet *set = &w->set[s];
        if (!(set->d_geom = wb_cl_buffer_new (w->cl, CL_MEM_READ_ONLY, (gsize) w->batch_cap * 4 * sizeof (float), NULL, "trace geometry", error))
            || !(set->d_first = wb_cl_buffer_new (w->cl, CL_MEM_READ_ONLY, (gsize) w->batch_cap * sizeof (float), NULL, "trace delays", error))
            || !(set->d_traces = wb_cl_buffer_new (w->cl, CL_MEM_READ_ONLY, (gsize) w->batch_cap * ns * sizeof (float), NULL, "traces", error))
            || !(set->d_integ = wb_cl_buffer_new (w->cl, CL_MEM_READ_ONLY, p->antialias ? (gsize) w->batch_cap * nsa * sizeof (float) : sizeof (float), NULL, "integrated traces", error)))
          return FALSE;
      }
    /* Read-back targets in pinned memory (fast, asynchronous copies). */
    for (guint s = 0; s < 2; s++)
      {
        cl_int status;

        w->pinned_image[s] = wb_cl_buffer_new (w->cl, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, tile_bytes, NULL, "tile image (host)", error);
        w->pinned_fold[s] = w->pinned_image[s] ? wb_cl_buffer_new (w->cl, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, tile_bytes, NULL, "tile fold (host)", error) : NULL;
        if (w->pinned_fold[s] == NULL)
          return FALSE;
        w->host_image[s] = clEnqueueMapBuffer (w->cl->queue, w->pinned_image[s], CL_TRUE, CL_MAP_READ | CL_MAP_WRITE,
                                               0, tile_bytes, 0, NULL, NULL, &status);
        if (!wb_cl_check (status, "clEnqueueMapBuffer", error))
          return FALSE;
        w->host_fold[s] = clEnqueueMapBuffer (w->cl->queue, w->pinned_fold[s], CL_TRUE, CL_MAP_READ | CL_MAP_WRITE,
                                              0, tile_bytes, 0, NULL, NULL, &status);
        if (!wb_cl_check (status, "clEnqueueMapBuffer", error))
          return FALSE;
      }
  }
  return TRUE;
}

/* Reads and pre-filters traces @indices[0..n) into @set from slot
 * @offset on: minus the full time derivative (central difference, zero
 * beyond the ends) and, for anti-aliasing, its causal then anti-causal
 * running sums (Lumley-Claerbout), in double.  The sign is Schneider's:
 * summing over a 2D aperture integrates a reflection once (the operator
 * touches the data curve from later times), -d/dt undoes that with the
 * polarity kept. */
static gboolean
load_traces (WbPstmJob *job, Cursor *cursor, float *raw, double *work, TraceSet *set,
             gsize offset, const guint32 *indices, guint n, GError **error)
{
  const WbSegyGeometry *g = job->input->geom;
  const WbPstmParams *p = &job->params;
  guint ns = g->n_samples;
  double half_inv_dt = 0.5 / g->dt;

  for (guint b = 0; b < n; b++)
    {
      gsize t = indices ? indices[b] : offset + b;
      gsize slot = offset + b;
      float *out = set->traces + slot * ns;
      float *x = raw;

      if (!cursor_read (cursor, t, x, error))
        return FALSE;
      set->geom[4 * slot + 0] = g->sx[t];
      set->geom[4 * slot + 1] = g->sy[t];
      set->geom[4 * slot + 2] = g->rx[t];
      set->geom[4 * slot + 3] = g->ry[t];
      set->first[slot] = g->delay[t];

      if (p->derivative)
        for (guint i = 0; i < ns; i++)
          {
            double next = i + 1 < ns ? x[i + 1] : 0;
            double prev = i > 0 ? x[i - 1] : 0;
            out[i] = (prev - next) * half_inv_dt;
          }
      else
        memcpy (out, x, sizeof (float) * ns);

      if (p->antialias)
        {
          guint pad = job->aa_pad, nsa = ns + 2 * pad;
          double c = 0, a = 0, mean = 0;
          float *integ = set->integ + slot * nsa;

          /* Over the zero-padded trace, so that the kernel's reads near
           * the ends see exactly the sums of the zero-padded trace. */
          for (guint i = 0; i < nsa; i++)
            {
              c += (i >= pad && i < pad + ns) ? out[i - pad] : 0;
              work[i] = c;
            }
          for (guint i = nsa; i-- > 0;)
            {
              a += work[i];
              work[i] = a;
              mean += a;
            }
          /* A constant drops out of the second difference; removing the
           * mean keeps the floats small. */
          mean /= nsa;
          for (guint i = 0; i < nsa; i++)
            integ[i] = work[i] - mean;
        }
    }
  return TRUE;
}

static gboolean
worker_load_batch (Worker *w, TraceSet *set, gsize offset, const guint32 *indices, guint n,
                   GError **error)
{
  return load_traces (w->job, &w->cursor, w->raw, w->work, set, offset, indices, n, error);
}

typedef struct
{
  WbPstmJob *job;
  TraceSet  *set;
  gsize      offset;
  gsize      n;
} LoadChunk;

/* Traces held in memory: reading and filtering in threads (a file is read
 * through one handle, in order). */
static void
load_chunk_range (gsize begin, gsize end, gpointer data)
{
  LoadChunk *lc = data;
  guint ns = lc->job->input->geom->n_samples;
  g_autofree float *raw = g_new (float, ns);
  g_autofree double *work = g_new (double, ns + 2 * lc->job->aa_pad);
  Cursor cursor = { lc->job->input, NULL };

  /* Memory input: cursor_read cannot fail. */
  load_traces (lc->job, &cursor, raw, work, lc->set, lc->offset + begin, NULL,
               (guint) (end - begin), NULL);
}

/* Enqueues the upload of slots [@offset, @offset + @n) of @set (not
 * blocking: the host memory stays untouched until the device has read
 * it, which the in-order queue guarantees before any later launch). */
static gboolean
worker_upload_set (Worker *w, TraceSet *set, gsize offset, gsize n, GError **error)
{
  WbPstmJob *job = w->job;
  guint ns = job->input->geom->n_samples, nsa = ns + 2 * job->aa_pad;
  cl_command_queue q = w->cl->queue;

  return wb_cl_check (clEnqueueWriteBuffer (q, set->d_geom, CL_FALSE, offset * 16, n * 16,
                                            set->geom + 4 * offset, 0, NULL, NULL), "upload trace geometry", error)
         && wb_cl_check (clEnqueueWriteBuffer (q, set->d_first, CL_FALSE, offset * 4, n * 4,
                                               set->first + offset, 0, NULL, NULL), "upload trace delays", error)
         && wb_cl_check (clEnqueueWriteBuffer (q, set->d_traces, CL_FALSE, offset * ns * 4, n * ns * 4,
                                               set->traces + offset * ns, 0, NULL, NULL), "upload traces", error)
         && (!job->params.antialias
             || wb_cl_check (clEnqueueWriteBuffer (q, set->d_integ, CL_FALSE, offset * nsa * 4, n * nsa * 4,
                                                   set->integ + offset * nsa, 0, NULL, NULL),
                             "upload integrated traces", error));
}

/* Resident traces: every trace read, filtered and uploaded once, in
 * chunks, the upload of one overlapping the filtering of the next. */
static gboolean
worker_load_resident (Worker *w, GError **error)
{
  WbPstmJob *job = w->job;
  gsize n = job->input->geom->n_traces;
  double start = now_s ();

  /* In memory: 8192 traces at a time filtered by all threads; from a
   * file: 2048 at a time, read in order. */
  gsize chunk = job->input->samples != NULL ? 8192 : 2048;

  for (gsize b = 0; b < n; b += chunk)
    {
      guint m = (guint) MIN (chunk, n - b);

      if (job->input->samples != NULL)
        {
          LoadChunk lc = { job, &w->set[0], b, m };
          wb_parallel_for (m, load_chunk_range, &lc);
        }
      else if (!worker_load_batch (w, &w->set[0], b, NULL, m, error))
        return FALSE;
      if (!worker_upload_set (w, &w->set[0], b, m, error))
        return FALSE;
      clFlush (w->cl->queue);
    }
  w->resident_loaded = TRUE;
  g_mutex_lock (&job->lock);
  job->load_seconds += now_s () - start;
  g_mutex_unlock (&job->lock);
  return TRUE;
}

typedef struct
{
  Worker *w;
  guint   ncol;
  guint   ntr;
} RefBatch;

/* The reference: a plain loop per output column, per trace, per output
 * time.  Travel times and the in-aperture and in-trace decisions use float
 * like the device (they decide the fold, which must agree exactly); the
 * weights, the interpolation and the sums use double.  Anti-aliasing is a
 * direct triangle-weighted sum of the pre-filtered trace, not the
 * double-integration trick of the kernel. */
static void
reference_columns (gsize begin, gsize end, gpointer data)
{
  RefBatch *rb = data;
  Worker *w = rb->w;
  WbPstmJob *job = w->job;
  const WbPstmParams *p = &job->params;
  guint ns = job->input->geom->n_samples;
  float inv_dt = (float) (1.0 / job->input->geom->dt);
  float aa_scale = (float) (p->aa_dx / job->input->geom->dt);

  for (gsize c = begin; c < end; c++)
    {
      float x = w->columns[0][2 * c], y = w->columns[0][2 * c + 1];

      for (guint j = 0; j < rb->ntr; j++)
        {
          const float *g = w->set[0].geom + 4 * j;
          const float *trace = w->set[0].traces + (gsize) j * ns;
          float mdx = 0.5f * (g[0] + g[2]) - x;
          float mdy = 0.5f * (g[1] + g[3]) - y;
          float d2 = mdx * mdx + mdy * mdy;
          float sdx = g[0] - x, sdy = g[1] - y, rdx = g[2] - x, rdy = g[3] - y;
          float s2 = sdx * sdx + sdy * sdy, q2 = rdx * rdx + rdy * rdy;
          double d = sqrt ((double) d2);

          for (guint k = 0; k < p->nt; k++)
            {
              const float *o = job->otab + 4 * k;
              float t0 = o[0], v = o[1], radius = o[2], inner = o[3];
              float th2 = 0.25f * t0 * t0, inv_v2 = 1.0f / (v * v);
              float ts, tr, t, u;
              double weight = 1, value;
              gsize out = c * p->nt + k;

              if (d2 > radius * radius)
                continue;
              ts = sqrtf (th2 + s2 * inv_v2);
              tr = sqrtf (th2 + q2 * inv_v2);
              t = ts + tr;
              u = (t - w->set[0].first[j]) * inv_dt;
              if (!(u >= 0 && u <= (float) (ns - 1)))
                continue;
              w->host_fold[0][out]++;

              if (d > inner)
                weight = 0.5 * (1 + cos (G_PI * (d - inner) / ((double) radius - inner)));
              if (p->obliquity && t > 0)
                weight *= (double) t0 / t;
              if (p->spreading && t > 0)
                weight /= (double) v * t;

              if (p->antialias)
                {
                  double gx = (sdx / (double) ts + rdx / (double) tr) * inv_v2;
                  double gy = (sdy / (double) ts + rdy / (double) tr) * inv_v2;
                  double L = MAX (1.0, sqrt (gx * gx + gy * gy) * aa_scale);
                  long lo = (long) ceil (u - L), hi = (long) floor (u + L);

                  value = 0;
                  for (long i = MAX (lo, 0); i <= hi && i < (long) ns; i++)
                    {
                      double hat = L - fabs ((double) i - u);
                      if (hat > 0)
                        value += hat * trace[i];
                    }
                  value /= L * L;
                }
              else
                {
                  guint i = MIN ((guint) u, ns - 2);
                  double f = (double) u - i;
                  value = trace[i] * (1 - f) + trace[i + 1] * f;
                }
              w->acc[out] += weight * value;
            }
        }
    }
}

/* The blocks of @tile's columns (block_cols x block_cols) per axis, and
 * with @col_block, the block of each column. */
static void
tile_blocks (Worker *w, const Tile *tile, guint32 *col_block, guint *nbx, guint *nby)
{
  guint bs = w->block_cols;

  *nbx = (tile->ni + bs - 1) / bs;
  *nby = (tile->nj + bs - 1) / bs;
  for (guint b = 0; col_block != NULL && b < tile->nj; b++)
    for (guint a = 0; a < tile->ni; a++)
      col_block[b * tile->ni + a] = (b / bs) * *nbx + a / bs;
}

/* Calls @func for every block of @tile whose columns come within the
 * gather radius of trace @t's midpoint (a superset of the columns whose
 * aperture holds it: the kernel tests each). */
#define FOR_EACH_BLOCK_NEAR(w, tile, t, nbx, nby, BODY) G_STMT_START {                        \
    const WbPstmJob *job_ = (w)->job;                                                         \
    const WbSegyGeometry *g_ = job_->input->geom;                                             \
    double mx_ = 0.5 * ((double) g_->sx[t] + g_->rx[t]);                                      \
    double my_ = 0.5 * ((double) g_->sy[t] + g_->ry[t]);                                      \
    double r_ = job_->gather_radius, dx_ = job_->params.dx, dy_ = job_->params.dy;            \
    double x0_ = job_->col_x[(tile)->i0], y0_ = job_->col_y[(tile)->j0];                      \
    double alo_ = floor ((mx_ - r_ - x0_) / dx_) - 1, ahi_ = ceil ((mx_ + r_ - x0_) / dx_) + 1; \
    double blo_ = floor ((my_ - r_ - y0_) / dy_) - 1, bhi_ = ceil ((my_ + r_ - y0_) / dy_) + 1; \
    guint bs_ = (w)->block_cols;                                                              \
    if (ahi_ >= 0 && bhi_ >= 0 && alo_ < (tile)->ni && blo_ < (tile)->nj)                     \
      {                                                                                       \
        guint bx0_ = (guint) MAX (alo_, 0) / bs_, bx1_ = (guint) MIN (ahi_, (tile)->ni - 1) / bs_; \
        guint by0_ = (guint) MAX (blo_, 0) / bs_, by1_ = (guint) MIN (bhi_, (tile)->nj - 1) / bs_; \
        for (guint by_ = by0_; by_ <= by1_; by_++)                                            \
          {                                                                                   \
            double ylo_ = job_->col_y[(tile)->j0 + by_ * bs_];                                \
            double yhi_ = job_->col_y[(tile)->j0 + MIN ((by_ + 1) * bs_, (tile)->nj) - 1];    \
            double ey_ = MAX (MAX (ylo_ - my_, my_ - yhi_), 0);                               \
            for (guint bx_ = bx0_; bx_ <= bx1_; bx_++)                                        \
              {                                                                               \
                double xlo_ = job_->col_x[(tile)->i0 + bx_ * bs_];                            \
                double xhi_ = job_->col_x[(tile)->i0 + MIN ((bx_ + 1) * bs_, (tile)->ni) - 1];\
                double ex_ = MAX (MAX (xlo_ - mx_, mx_ - xhi_), 0);                           \
                if (ex_ * ex_ + ey_ * ey_ <= r_ * r_)                                         \
                  {                                                                           \
                    guint block = by_ * (nbx) + bx_;                                          \
                    BODY;                                                                     \
                  }                                                                           \
              }                                                                               \
          }                                                                                   \
      }                                                                                       \
  } G_STMT_END

/* Block lists in parallel: the launch's traces in LIST_CHUNKS consecutive
 * chunks, each counted and then filled by one thread; block b's entries
 * are chunk 0's, then chunk 1's..., so each list keeps the traces' order. */

typedef struct
{
  Worker        *w;
  const Tile    *tile;
  const guint32 *indices;
  guint          n;
  gboolean       resident;
  guint          nbx, nby, nb;
  guint32       *count;      /* [LIST_CHUNKS * nb]: counts, then fill positions */
  guint32       *list;
  gboolean       fill;
} ListJob;

static void
list_chunks (gsize begin, gsize end, gpointer data)
{
  ListJob *lj = data;
  Worker *w = lj->w;

  for (gsize ch = begin; ch < end; ch++)
    {
      guint k0 = (guint) ((guint64) lj->n * ch / LIST_CHUNKS);
      guint k1 = (guint) ((guint64) lj->n * (ch + 1) / LIST_CHUNKS);
      guint32 *count = lj->count + ch * lj->nb;

      for (guint k = k0; k < k1; k++)
        {
          gsize t = lj->indices[k];
          guint32 slot = lj->resident ? (guint32) t : k;

          if (lj->fill)
            FOR_EACH_BLOCK_NEAR (w, lj->tile, t, lj->nbx, lj->nby, lj->list[count[block]++] = slot);
          else
            FOR_EACH_BLOCK_NEAR (w, lj->tile, t, lj->nbx, lj->nby, count[block]++);
        }
    }
}

/* Builds and uploads (without waiting) the block lists of one launch
 * into ring @ring: traces @indices[0..n), at trace slots @indices[k] (the
 * resident index) or k (a streamed set).  Each block's list keeps the
 * traces' order.  The host arrays of @ring are free: its previous launch
 * has ended. */
static gboolean
worker_launch_lists (Worker *w, const Tile *tile, guint tile_slot, const guint32 *indices, guint n,
                     gboolean resident, guint ring, GError **error)
{
  ListJob lj = { w, tile, indices, n, resident, 0, 0, 0, NULL, NULL, FALSE };
  gsize total = 0;
  guint32 *ranges = w->h_ranges[ring];
  double start = now_s ();
  /* Threads pay off from a few hundred traces on. */
  gboolean parallel = n >= 256 && wb_parallel_threads () > 1;

  tile_blocks (w, tile, NULL, &lj.nbx, &lj.nby);
  lj.nb = lj.nbx * lj.nby;
  lj.count = w->blk_count;
  memset (lj.count, 0, sizeof (guint32) * LIST_CHUNKS * lj.nb);
  if (parallel)
    wb_parallel_for (LIST_CHUNKS, list_chunks, &lj);
  else
    list_chunks (0, LIST_CHUNKS, &lj);
  for (guint b = 0; b < lj.nb; b++)
    {
      ranges[2 * b] = (guint32) total;
      for (guint ch = 0; ch < LIST_CHUNKS; ch++)
        {
          guint32 c = lj.count[ch * lj.nb + b];
          lj.count[ch * lj.nb + b] = (guint32) total;   /* now the fill position */
          total += c;
        }
      ranges[2 * b + 1] = (guint32) total;
    }
  if (total > G_MAXUINT32)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                   "migration: %" G_GSIZE_FORMAT " block list entries in one launch", total);
      return FALSE;
    }
  if (w->h_list_cap[ring] < MAX (total, 1))
    {
      w->h_list_cap[ring] = MAX (MAX (total, 1), w->h_list_cap[ring] * 3 / 2);
      w->h_list[ring] = g_renew (guint32, w->h_list[ring], w->h_list_cap[ring]);
    }
  lj.list = w->h_list[ring];
  lj.fill = TRUE;
  if (parallel)
    wb_parallel_for (LIST_CHUNKS, list_chunks, &lj);
  else
    list_chunks (0, LIST_CHUNKS, &lj);
  g_mutex_lock (&w->job->lock);
  w->job->lists_seconds += now_s () - start;
  g_mutex_unlock (&w->job->lock);
  if (w->d_list_cap[ring] < MAX (total, 1))
    {
      /* A buffer still used by a queued launch lives until it ends. */
      WB_CL_RELEASE (w->d_list[ring], clReleaseMemObject);
      w->d_list_cap[ring] = MAX (MAX (total, 1), w->d_list_cap[ring] * 3 / 2);
      w->d_list[ring] = wb_cl_buffer_new (w->cl, CL_MEM_READ_ONLY, sizeof (guint32) * w->d_list_cap[ring],
                                          NULL, "block lists", error);
      if (w->d_list[ring] == NULL)
        {
          w->d_list_cap[ring] = 0;
          return FALSE;
        }
    }
  return wb_cl_check (clEnqueueWriteBuffer (w->cl->queue, w->d_ranges[ring], CL_FALSE, 0,
                                            2 * sizeof (guint32) * lj.nb, ranges, 0, NULL, NULL),
                      "upload block ranges", error)
         && (total == 0
             || wb_cl_check (clEnqueueWriteBuffer (w->cl->queue, w->d_list[ring], CL_FALSE, 0,
                                                   sizeof (guint32) * total, w->h_list[ring], 0, NULL, NULL),
                             "upload block lists", error));
}

/* Enqueues one launch over the lists of ring @ring and the traces of
 * @set, without waiting. */
static gboolean
worker_launch (Worker *w, cl_kernel kernel, TraceSet *set, guint ncol, guint ring,
               cl_event *event, GError **error)
{
  WbPstmJob *job = w->job;
  const WbPstmParams *p = &job->params;
  gsize cells[2] = { (p->nt + w->kpw - 1) / w->kpw, ncol };
  cl_int ncol_i = ncol;
  float inv_dt = (float) (1.0 / job->input->geom->dt);
  float aa_scale = (float) (p->aa_dx / job->input->geom->dt);

  if (!wb_cl_set_arg (kernel, 0, sizeof (cl_mem), &w->d_image, error)
      || !wb_cl_set_arg (kernel, 1, sizeof (cl_mem), &w->d_fold, error)
      || !wb_cl_set_arg (kernel, 2, sizeof (cl_mem), &w->d_columns, error)
      || !wb_cl_set_arg (kernel, 3, sizeof (cl_int), &ncol_i, error)
      || !wb_cl_set_arg (kernel, 4, sizeof (cl_mem), &w->d_otab, error)
      || !wb_cl_set_arg (kernel, 5, sizeof (cl_mem), &set->d_geom, error)
      || !wb_cl_set_arg (kernel, 6, sizeof (cl_mem), &set->d_first, error)
      || !wb_cl_set_arg (kernel, 7, sizeof (cl_mem), &set->d_traces, error)
      || !wb_cl_set_arg (kernel, 8, sizeof (cl_mem), &set->d_integ, error)
      || !wb_cl_set_arg (kernel, 9, sizeof (cl_mem), &w->d_col_block, error)
      || !wb_cl_set_arg (kernel, 10, sizeof (cl_mem), &w->d_ranges[ring], error)
      || !wb_cl_set_arg (kernel, 11, sizeof (cl_mem), &w->d_list[ring], error)
      || !wb_cl_set_arg (kernel, 12, sizeof (float), &inv_dt, error)
      || !wb_cl_set_arg (kernel, 13, sizeof (float), &aa_scale, error))
    return FALSE;
  if (!wb_cl_enqueue (w->cl, kernel, 2, cells, w->local[0] > 0 ? w->local : NULL, NULL, event, error))
    return FALSE;
  if (!wb_cl_check (clFlush (w->cl->queue), "clFlush", error))
    {
      clWaitForEvents (1, event);
      WB_CL_RELEASE (*event, clReleaseEvent);
      return FALSE;
    }
  return TRUE;
}

/* Waits for a launch; its device time in *seconds. */
static gboolean
worker_wait (Worker *w, cl_event event, double *seconds, GError **error)
{
  WbPstmJob *job = w->job;
  gboolean ok = wb_cl_check (clWaitForEvents (1, &event), "clWaitForEvents", error);

  if (ok)
    {
      *seconds = wb_cl_event_seconds (event);
      g_mutex_lock (&job->lock);
      job->kernel_seconds += *seconds;
      g_mutex_unlock (&job->lock);
    }
  clReleaseEvent (event);
  return ok;
}

static void
worker_run_reference (Worker *w, guint ncol, guint ntr, double *seconds)
{
  WbPstmJob *job = w->job;
  RefBatch rb = { w, ncol, ntr };
  double start = now_s ();

  wb_parallel_for (ncol, reference_columns, &rb);
  *seconds = now_s () - start;
  g_mutex_lock (&job->lock);
  job->kernel_seconds += *seconds;
  g_mutex_unlock (&job->lock);
}

/* --- tuning: on the first tile with enough work to time ------------------ */

typedef struct
{
  Worker        *w;
  const Tile    *tile;
  guint          tile_slot;
  const guint32 *indices;
  guint          ncol;
  guint          ntr;
  guint          listed;     /* traces in ring 0's lists */
  TraceSet      *set;
} TuneTrial;

static gboolean
tune_measure (const WbTuneChoice *choice, double *seconds, gpointer data, GError **error)
{
  TuneTrial *tt = data;
  Worker *w = tt->w;
  double times[3];

  if (!worker_use_choice (w, choice, error))
    return FALSE;
  for (guint r = 0; r < 4; r++)
    {
      cl_event event = NULL;
      if (tt->listed != tt->ntr)
        {
          if (!worker_launch_lists (w, tt->tile, tt->tile_slot, tt->indices, tt->ntr, TRUE, 0, error))
            return FALSE;
          tt->listed = tt->ntr;
        }
      if (!worker_launch (w, w->kernel, tt->set, tt->ncol, 0, &event, error))
        return FALSE;
      if (!wb_cl_check (clWaitForEvents (1, &event), "clWaitForEvents", error))
        {
          clReleaseEvent (event);
          return FALSE;
        }
      if (r > 0)               /* the first one warms up */
        times[r - 1] = wb_cl_event_seconds (event);
      clReleaseEvent (event);
    }
  /* Per trace and column, so that trials of different sizes compare. */
  *seconds = wb_tune_median (times, 3);
  return TRUE;
}

/* Chooses the launch configuration (cache, or measured now) on the tile
 * whose columns, zeroed sums and trace list are on the device; the trial
 * launches sum into the tile, which is zeroed again afterwards. */
static gboolean
worker_tune (Worker *w, const Tile *tile, guint tile_slot, const guint32 *indices, gsize ntraces,
             gsize tile_samples, GError **error)
{
  WbPstmJob *job = w->job;
  g_autoptr(GArray) candidates = pstm_candidates (w->device);
  g_autofree char *key = pstm_tune_key (job);
  TuneTrial tt = { w, tile, tile_slot, indices, tile->ni * tile->nj, 0, 0, &w->set[0] };
  WbTuneResult result;
  double start = now_s (), probe = 0;
  gboolean ok;

  w->tuned = TRUE;
  /* Size the trial to ~20 ms of the default on this device. */
  tt.ntr = (guint) MIN (ntraces, 32);
  if (!tune_measure (&g_array_index (candidates, WbTuneChoice, 0), &probe, &tt, error))
    return FALSE;
  tt.ntr = (guint) CLAMP (tt.ntr * 0.02 / MAX (probe, 1e-6), tt.ntr, MIN (ntraces, 4096));
  ok = wb_tune_choose (w->device, key, (const WbTuneChoice *) candidates->data, candidates->len,
                       FALSE, tune_measure, &tt, &result, error)
       && worker_use_choice (w, &result.choice, error)
       && wb_cl_fill_float (w->cl, w->d_image, 0.0f, tile_samples, error)
       && wb_cl_fill_float (w->cl, w->d_fold, 0.0f, tile_samples, error)
       && wb_cl_finish (w->cl, error);
  if (result.trials != NULL)
    g_debug ("%s: tuned %s with %u-trace trials", w->device->id, key, tt.ntr);
  wb_tune_result_clear (&result);
  g_mutex_lock (&job->lock);
  job->tune_seconds += now_s () - start;
  job->tune_trial = (guint64) tt.ntr * tile_samples;
  g_mutex_unlock (&job->lock);
  return ok;
}

/* --- tiles ---------------------------------------------------------------- */

static gboolean
worker_wait_if_paused (Worker *w)
{
  WbPstmJob *job = w->job;

  for (;;)
    {
      gboolean paused;

      g_mutex_lock (&job->lock);
      paused = job->paused && !g_atomic_int_get (&job->stop);
      g_mutex_unlock (&job->lock);
      if (!paused || g_cancellable_is_cancelled (job->cancellable))
        return TRUE;
      g_usleep (50000);
    }
}

static void
worker_fail (Worker *w, GError *error)
{
  WbPstmJob *job = w->job;

  g_mutex_lock (&job->lock);
  if (job->error == NULL)
    job->error = error;
  else
    g_error_free (error);
  g_atomic_int_set (&job->stop, TRUE);
  g_mutex_unlock (&job->lock);
}

/* Takes the next pending tile, or returns FALSE. */
static gboolean
worker_next_tile (Worker *w, guint *index)
{
  WbPstmJob *job = w->job;
  gboolean found = FALSE;

  g_mutex_lock (&job->lock);
  while (!g_atomic_int_get (&job->stop) && job->next_tile < job->n_tiles)
    {
      guint i = job->next_tile++;
      if (job->tiles[i].state == WB_PSTM_TILE_PENDING)
        {
          job->tiles[i].state = WB_PSTM_TILE_RUNNING;
          *index = i;
          found = TRUE;
          break;
        }
    }
  g_mutex_unlock (&job->lock);
  return found;
}

typedef struct
{
  WbPstmJob     *job;
  const Tile    *tile;
  const float   *image;      /* tile, time fastest */
  const guint32 *fold;
  guint64       *live;       /* per row */
} StoreRows;

/* Tile rows [begin, end) (time fastest) into the field (x fastest): a
 * blocked transpose, 16 columns by 64 times, so that both sides stay in
 * cache. */
static void
store_rows (gsize begin, gsize end, gpointer data)
{
  StoreRows *sr = data;
  WbPstmJob *job = sr->job;
  const Tile *tile = sr->tile;
  guint nt = job->params.nt;

  for (gsize b = begin; b < end; b++)
    {
      guint64 live = 0;

      for (guint k0 = 0; k0 < nt; k0 += 64)
        for (guint a0 = 0; a0 < tile->ni; a0 += 16)
          {
            guint k1 = MIN (k0 + 64, nt), a1 = MIN (a0 + 16, tile->ni);

            for (guint k = k0; k < k1; k++)
              {
                gsize dst = wb_field_index (job->image, tile->i0, tile->j0 + b, k);
                gsize src = (gsize) b * tile->ni * nt + k;

                for (guint a = a0; a < a1; a++)
                  {
                    guint32 n = sr->fold[src + (gsize) a * nt];
                    job->image->data[dst + a] = sr->image[src + (gsize) a * nt];
                    job->fold->data[dst + a] = n;
                    live += n;
                  }
              }
          }
      sr->live[b] = live;
    }
}

/* Stores a finished tile into the job's image and fold and marks it done.
 * Without the lock while copying: tiles are disjoint, and a checkpoint
 * written meanwhile marks this tile not done, so whatever it holds of it
 * is recomputed on resume. */
static gboolean
worker_store_tile (Worker *w, guint index, const float *image, const guint32 *fold,
                   gsize done, GError **error)
{
  WbPstmJob *job = w->job;
  const WbPstmParams *p = &job->params;
  Tile *tile = &job->tiles[index];
  g_autofree guint64 *live_rows = g_new0 (guint64, tile->nj);
  StoreRows sr = { job, tile, image, fold, live_rows };
  guint64 live = 0;
  double start = now_s ();

  if (g_atomic_int_get (&job->stop))
    return TRUE;
  if ((gsize) tile->ni * tile->nj * p->nt >= (1u << 20))
    wb_parallel_for (tile->nj, store_rows, &sr);
  else
    store_rows (0, tile->nj, &sr);
  for (guint b = 0; b < tile->nj; b++)
    live += live_rows[b];

  g_mutex_lock (&job->lock);
  job->store_seconds += now_s () - start;
  tile->state = WB_PSTM_TILE_DONE;
  job->tiles_done++;
  job->tiles_computed++;
  job->live_contributions += live;
  emit (job, WB_PSTM_EVENT_TILE_DONE, index, w->device->id, done, 0);
  if (p->checkpoint != NULL && job->tiles_done < job->n_tiles
      && g_get_monotonic_time () - job->last_checkpoint_us >= p->checkpoint_interval * 1e6)
    {
      GError *local = NULL;
      if (!write_checkpoint (job, &local))
        {
          g_mutex_unlock (&job->lock);
          g_propagate_error (error, local);
          return FALSE;
        }
      emit (job, WB_PSTM_EVENT_CHECKPOINT, index, w->device->id, done, 0);
    }
  g_mutex_unlock (&job->lock);
  return TRUE;
}

/* Waits for the read-back of the pending tile, if any, and stores it. */
static gboolean
worker_finish_pending (Worker *w, GError **error)
{
  PendingTile *pt = &w->pending;
  WbPstmJob *job = w->job;
  gboolean ok = TRUE;

  if (!pt->active)
    return TRUE;
  pt->active = FALSE;
  for (guint i = 0; i < pt->n_flight; i++)
    {
      double seconds = 0;

      if (ok && worker_wait (w, pt->flight[i].event, &seconds, error))
        {
          pt->done += pt->flight[i].n;
          g_mutex_lock (&job->lock);
          job->traces_done += pt->flight[i].n;
          job->contributions_done += (guint64) pt->flight[i].n * pt->tile_samples;
          emit (job, WB_PSTM_EVENT_BATCH_DONE, pt->tile, w->device->id, pt->done, pt->flight[i].n);
          g_mutex_unlock (&job->lock);
        }
      else if (ok)
        ok = FALSE;            /* worker_wait released the event */
      else
        {
          clWaitForEvents (1, &pt->flight[i].event);
          clReleaseEvent (pt->flight[i].event);
        }
    }
  pt->n_flight = 0;
  if (!ok)
    {
      clWaitForEvents (1, &pt->read_event);
      WB_CL_RELEASE (pt->read_event, clReleaseEvent);
      return FALSE;
    }
  ok = wb_cl_check (clWaitForEvents (1, &pt->read_event), "read back tile", error);
  WB_CL_RELEASE (pt->read_event, clReleaseEvent);
  if (!ok)
    return FALSE;
  return worker_store_tile (w, pt->tile, w->host_image[pt->slot], w->host_fold[pt->slot],
                            pt->done, error);
}

/* The reference backend: load, sum, store, one batch after the other. */
static gboolean
worker_do_tile_reference (Worker *w, guint index, const guint32 *indices, gsize len,
                          GError **error)
{
  WbPstmJob *job = w->job;
  const WbPstmParams *p = &job->params;
  Tile *tile = &job->tiles[index];
  guint ncol = tile->ni * tile->nj;
  gsize tile_samples = (gsize) ncol * p->nt;
  guint batch = p->batch_traces > 0 ? job->batch_max
                : w->batch > 0 ? w->batch : MIN (64, job->batch_max);
  gsize done = 0;

  memset (w->host_fold[0], 0, sizeof (guint32) * tile_samples);
  memset (w->acc, 0, sizeof (double) * tile_samples);
  while (done < len)
    {
      guint n = (guint) MIN ((gsize) batch, len - done);
      double seconds = 0, start = now_s ();

      worker_wait_if_paused (w);
      if (g_cancellable_set_error_if_cancelled (job->cancellable, error))
        return FALSE;
      if (g_atomic_int_get (&job->stop))   /* another worker failed */
        return TRUE;
      if (!worker_load_batch (w, &w->set[0], 0, indices + done, n, error))
        return FALSE;
      g_mutex_lock (&job->lock);
      job->load_seconds += now_s () - start;
      g_mutex_unlock (&job->lock);
      worker_run_reference (w, ncol, n, &seconds);
      done += n;

      g_mutex_lock (&job->lock);
      job->traces_done += n;
      job->contributions_done += (guint64) n * tile_samples;
      emit (job, WB_PSTM_EVENT_BATCH_DONE, index, w->device->id, done, n);
      g_mutex_unlock (&job->lock);
      if (p->batch_traces == 0)
        {
          double scale = p->batch_seconds / MAX (seconds, 1e-4);
          double want = CLAMP (n * MIN (scale, 4.0), 1.0, (double) job->batch_max);
          if (n == batch || want < batch)
            batch = w->batch = (guint) want;
        }
    }
  for (gsize s = 0; s < tile_samples; s++)
    w->host_image[0][s] = (float) w->acc[s];
  return worker_store_tile (w, index, w->host_image[0], w->host_fold[0], done, error);
}

/* OpenCL: the tile's launches are enqueued two ahead of the host, which
 * meanwhile reads and filters the next batch (streaming) and stores the
 * previous tile; the tile's sums are read back without waiting, into
 * pinned memory, and stored once the next tile's first launch is queued. */
static gboolean
worker_do_tile (Worker *w, guint index, GError **error)
{
  WbPstmJob *job = w->job;
  const WbPstmParams *p = &job->params;
  Tile *tile = &job->tiles[index];
  guint ncol = tile->ni * tile->nj;
  gsize tile_samples = (gsize) ncol * p->nt;
  guint slot = w->pending.active ? 1 - w->pending.slot : 0;
  GArray *list;
  const guint32 *indices;
  guint limit = w->resident ? job->batch_max : MIN (job->batch_max, w->batch_cap);
  /* The first tile starts small (64 traces; 256 on GPUs, where fewer keep
   * the device waiting on the host between launches); later ones where the
   * last one ended. */
  guint first = w->device->kind == WB_DEVICE_KIND_CPU ? 64 : 256;
  guint batch = p->batch_traces > 0 ? limit
                : w->batch > 0 ? MIN (w->batch, limit) : MIN (first, limit);
  gsize done = 0, enqueued = 0;
  guint launches = 0;
  InFlight flight[2];
  guint n_flight = 0;
  gboolean ok = TRUE;

  g_clear_pointer (&w->tile_list[slot], g_array_unref);
  list = w->tile_list[slot] = g_array_sized_new (FALSE, FALSE, sizeof (guint32), tile->n_traces);
  gather_tile (job, index, list);
  g_assert (list->len == tile->n_traces);
  indices = (const guint32 *) list->data;

  for (guint b = 0; b < tile->nj; b++)
    for (guint a = 0; a < tile->ni; a++)
      {
        guint c = b * tile->ni + a;
        w->columns[slot][2 * c] = job->col_x[tile->i0 + a];
        w->columns[slot][2 * c + 1] = job->col_y[tile->j0 + b];
      }

  g_mutex_lock (&job->lock);
  emit (job, WB_PSTM_EVENT_TILE_STARTED, index, w->device->id, 0, 0);
  g_mutex_unlock (&job->lock);

  if (w->reference)
    return worker_do_tile_reference (w, index, indices, list->len, error);

  if (w->resident && !w->resident_loaded && !worker_load_resident (w, error))
    return FALSE;
  {
    guint nbx, nby;
    tile_blocks (w, tile, w->col_block[slot], &nbx, &nby);
  }
  /* Not blocking: the host arrays of this slot are not touched again
   * before this tile's read-back has completed. */
  if (!wb_cl_check (clEnqueueWriteBuffer (w->cl->queue, w->d_columns, CL_FALSE, 0,
                                          2 * sizeof (float) * ncol, w->columns[slot], 0, NULL, NULL),
                    "upload columns", error)
      || !wb_cl_check (clEnqueueWriteBuffer (w->cl->queue, w->d_col_block, CL_FALSE, 0,
                                             sizeof (guint32) * ncol, w->col_block[slot], 0, NULL, NULL),
                       "upload column blocks", error)
      || !wb_cl_fill_float (w->cl, w->d_image, 0.0f, tile_samples, error)
      || !wb_cl_fill_float (w->cl, w->d_fold, 0.0f, tile_samples, error))
    return FALSE;

  /* Launch configuration: measured (or from the cache) on the first tile
   * with enough work to time, unless pinned. */
  if (!w->tuned && w->resident && (double) list->len * tile_samples >= 2e9
      && (wb_tune_policy () == WB_TUNE_FORCE
          || (wb_tune_policy () == WB_TUNE_AUTO && w->device->kind != WB_DEVICE_KIND_CPU)))
    {
      if (!worker_finish_pending (w, error)
          || !worker_tune (w, tile, slot, indices, list->len, tile_samples, error))
        return FALSE;
    }

  /* Streamed traces go through two sets that the pending tile's last
   * launches may still use. */
  if (!w->resident && !worker_finish_pending (w, error))
    return FALSE;

  while (enqueued < list->len)
    {
      if (n_flight < 2)
        {
          guint n = (guint) MIN ((gsize) batch, list->len - enqueued);
          guint ring = w->launches % N_RINGS;
          TraceSet *set = &w->set[w->resident ? 0 : w->launches % 2];
          cl_event event = NULL;

          worker_wait_if_paused (w);
          if (g_atomic_int_get (&job->stop))   /* another worker failed */
            break;
          if (g_cancellable_set_error_if_cancelled (job->cancellable, error))
            {
              ok = FALSE;
              break;
            }
          if (!w->resident)
            {
              /* This set's previous launch has finished (at most two
               * are in flight), so its host arrays are free. */
              double start = now_s ();
              if (!worker_load_batch (w, set, 0, indices + enqueued, n, error)
                  || !worker_upload_set (w, set, 0, n, error))
                {
                  ok = FALSE;
                  break;
                }
              g_mutex_lock (&job->lock);
              job->load_seconds += now_s () - start;
              g_mutex_unlock (&job->lock);
            }
          /* The ring's previous launch (N_RINGS ago) has ended too. */
          if (!worker_launch_lists (w, tile, slot, indices + enqueued, n, w->resident, ring, error)
              || !worker_launch (w, w->kernel, set, ncol, ring, &event, error))
            {
              ok = FALSE;
              break;
            }
          flight[n_flight].event = event;
          flight[n_flight].n = n;
          n_flight++;
          enqueued += n;
          launches++;
          w->launches++;
          /* The device has work queued: finish the previous tile now. */
          if (launches == 1 && !worker_finish_pending (w, error))
            {
              ok = FALSE;
              break;
            }
          continue;
        }

      {
        double seconds = 0;
        guint n = flight[0].n;

        if (!worker_wait (w, flight[0].event, &seconds, error))
          {
            flight[0] = flight[1];
            n_flight--;
            ok = FALSE;
            break;
          }
        flight[0] = flight[1];
        n_flight--;
        done += n;

        g_mutex_lock (&job->lock);
        job->traces_done += n;
        job->contributions_done += (guint64) n * tile_samples;
        emit (job, WB_PSTM_EVENT_BATCH_DONE, index, w->device->id, done, n);
        g_mutex_unlock (&job->lock);

        /* Aim each launch at batch_seconds of device time: grow at most 4x,
         * shrink freely. */
        if (p->batch_traces == 0)
          {
            double scale = p->batch_seconds / MAX (seconds, 1e-4);
            double want = CLAMP (n * MIN (scale, 4.0), 1.0, (double) limit);
            if (n == batch || want < batch)
              batch = w->batch = (guint) want;
          }
      }
    }
  if (!ok || enqueued < list->len)
    {
      /* Leaving early (cancelled, failed, or another worker failed): let
       * the launches still queued end before their buffers are reused or
       * freed, and keep the previous tile, which is complete. */
      GError *local = NULL;

      for (guint i = 0; i < n_flight; i++)
        {
          clWaitForEvents (1, &flight[i].event);
          clReleaseEvent (flight[i].event);
        }
      if (!worker_finish_pending (w, ok ? error : &local))
        {
          g_clear_error (&local);
          return FALSE;
        }
      g_clear_error (&local);
      return ok;
    }
  /* A tile without traces launched nothing: the previous one is still
   * pending. */
  if (launches == 0 && !worker_finish_pending (w, error))
    return FALSE;

  {
    cl_event read_fold = NULL;
    cl_command_queue q = w->cl->queue;

    if (!wb_cl_check (clEnqueueReadBuffer (q, w->d_image, CL_FALSE, 0, sizeof (float) * tile_samples,
                                           w->host_image[slot], 0, NULL, NULL), "read back tile image", error)
        || !wb_cl_check (clEnqueueReadBuffer (q, w->d_fold, CL_FALSE, 0, sizeof (guint32) * tile_samples,
                                              w->host_fold[slot], 0, NULL, &read_fold), "read back tile fold", error))
      {
        for (guint i = 0; i < n_flight; i++)
          {
            clWaitForEvents (1, &flight[i].event);
            clReleaseEvent (flight[i].event);
          }
        return FALSE;
      }
    clFlush (q);
    w->pending.active = TRUE;
    w->pending.tile = index;
    w->pending.slot = slot;
    w->pending.done = done;
    w->pending.tile_samples = tile_samples;
    memcpy (w->pending.flight, flight, sizeof flight);
    w->pending.n_flight = n_flight;
    w->pending.read_event = read_fold;
  }
  return TRUE;
}

static gpointer
worker_main (gpointer data)
{
  Worker *w = data;
  GError *error = NULL;
  guint index;

  double start = now_s ();

  if (!worker_setup (w, &error))
    {
      g_prefix_error (&error, "%s: ", w->device->id);
      worker_fail (w, error);
      return NULL;
    }
  g_mutex_lock (&w->job->lock);
  w->job->setup_seconds = MAX (w->job->setup_seconds, now_s () - start);
  g_mutex_unlock (&w->job->lock);
  g_debug ("%s: set up in %.3f s", w->device->id, now_s () - start);
  while (worker_next_tile (w, &index))
    {
      if (!worker_do_tile (w, index, &error))
        {
          g_mutex_lock (&w->job->lock);
          w->job->tiles[index].state = WB_PSTM_TILE_PENDING;
          g_mutex_unlock (&w->job->lock);
          worker_fail (w, error);
          return NULL;
        }
      g_mutex_lock (&w->job->lock);
      if (w->job->tiles[index].state == WB_PSTM_TILE_RUNNING && !w->pending.active)
        w->job->tiles[index].state = WB_PSTM_TILE_PENDING;  /* stopped early */
      g_mutex_unlock (&w->job->lock);
    }
  if (!worker_finish_pending (w, &error))
    worker_fail (w, error);
  return NULL;
}

gboolean
wb_pstm_job_run (WbPstmJob     *job,
                 GCancellable  *cancellable,
                 GError       **error)
{
  const WbPstmParams *p = &job->params;
  g_autofree Worker *workers = g_new0 (Worker, job->devices->len);
  g_autofree GThread **threads = g_new0 (GThread *, job->devices->len);
  gboolean ok = TRUE;

  g_mutex_lock (&job->lock);
  job->cancellable = cancellable;
  g_atomic_int_set (&job->stop, FALSE);
  g_clear_error (&job->error);
  job->next_tile = 0;
  job->start_us = g_get_monotonic_time ();
  job->last_checkpoint_us = job->start_us;
  job->traces_done = job->contributions_done = job->live_contributions = 0;
  job->traces_total = job->contributions_total = 0;
  job->kernel_seconds = 0;
  job->setup_seconds = 0;
  job->tune_seconds = job->load_seconds = job->store_seconds = job->teardown_seconds = 0;
  job->lists_seconds = 0;
  job->tiles_done = job->tiles_computed = job->tiles_resumed = 0;
  for (guint i = 0; i < job->n_tiles; i++)
    {
      Tile *tile = &job->tiles[i];
      if (tile->state == WB_PSTM_TILE_PENDING || tile->state == WB_PSTM_TILE_RUNNING)
        {
          tile->state = WB_PSTM_TILE_PENDING;
          job->traces_total += tile->n_traces;
          job->contributions_total += (guint64) tile->n_traces * tile->ni * tile->nj * p->nt;
        }
      else
        job->tiles_done++;
    }
  for (guint i = 0; i < job->n_tiles; i++)
    if (job->tiles[i].state == WB_PSTM_TILE_RESUMED)
      {
        job->tiles_resumed++;
        emit (job, WB_PSTM_EVENT_TILE_RESUMED, i, "checkpoint", job->tiles[i].n_traces, 0);
      }
  g_mutex_unlock (&job->lock);

  for (guint d = 0; d < job->devices->len; d++)
    {
      workers[d].job = job;
      workers[d].device = job->devices->pdata[d];
    }
  if (job->devices->len == 1)
    worker_main (&workers[0]);
  else
    {
      for (guint d = 0; d < job->devices->len; d++)
        threads[d] = g_thread_new ("wb-pstm", worker_main, &workers[d]);
      for (guint d = 0; d < job->devices->len; d++)
        g_thread_join (threads[d]);
    }
  /* The migration is complete here; releasing contexts is not part of it
   * (measured apart). */
  {
    double end = now_s ();

    for (guint d = 0; d < job->devices->len; d++)
      worker_clear (&workers[d]);
    g_mutex_lock (&job->lock);
    job->run_seconds = end - job->start_us * 1e-6;
    job->teardown_seconds = now_s () - end;
  }
  job->cancellable = NULL;
  if (job->error == NULL && job->tiles_done < job->n_tiles)
    job->error = g_error_new (WB_ERROR, WB_ERROR_DEVICE,
                              "migration stopped with %u of %u tiles done",
                              job->tiles_done, job->n_tiles);
  if (job->error != NULL)
    {
      GError *e = g_steal_pointer (&job->error);

      ok = FALSE;
      if (p->checkpoint != NULL && job->tiles_done > 0)
        {
          g_autoptr(GError) ck = NULL;
          if (write_checkpoint (job, &ck))
            g_prefix_error (&e, "%u of %u tiles saved to %s; ", job->tiles_done,
                            job->n_tiles, p->checkpoint);
          else
            g_prefix_error (&e, "(checkpoint not saved: %s) ", ck->message);
        }
      if (g_error_matches (e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_set_error (error, WB_ERROR, WB_ERROR_CANCELLED, "migration cancelled: %s",
                       e->message);
          g_error_free (e);
        }
      else
        g_propagate_error (error, e);
    }
  else
    {
      if (p->checkpoint != NULL && g_unlink (p->checkpoint) != 0 && errno != ENOENT)
        g_warning ("cannot remove checkpoint %s: %s", p->checkpoint, g_strerror (errno));
      if (p->normalize_fold && !job->normalized)
        {
          /* Once: a second run of a finished job computes nothing. */
          job->normalized = TRUE;
          gsize n = wb_field_n_elements (job->image);
          for (gsize s = 0; s < n; s++)
            if (job->fold->data[s] > 0)
              job->image->data[s] /= job->fold->data[s];
        }
    }
  g_mutex_unlock (&job->lock);
  return ok;
}

/* --- PNG slices -------------------------------------------------------- */

/* A 2D slice with the time axis flipped, so that time grows downwards as
 * seismic sections are drawn (the renderer puts the second axis upwards). */
static WbField *
slice_time_down (const WbField *image, guint axis, gsize index, GError **error)
{
  g_autoptr(WbField) slice = wb_field_slice (image, axis, index, error);
  WbField *flipped;
  gsize nx, ny;

  if (slice == NULL)
    return NULL;
  if (axis == 2)
    return g_steal_pointer (&slice);
  nx = slice->shape[0];
  ny = slice->shape[1];
  {
    /* Sections are often far taller (samples) than wide (bins): repeat
     * each column so that the picture is at most twice as tall as wide. */
    gsize repeat = MAX (1, ny / (2 * nx));
    gsize shape[2] = { nx * repeat, ny };
    double spacing[2] = { slice->spacing[0] / repeat, slice->spacing[1] };

    flipped = wb_field_new (slice->name, slice->units, 2, shape, spacing);
    flipped->origin[0] = slice->origin[0];
    flipped->origin[1] = slice->origin[1];
    for (gsize j = 0; j < ny; j++)
      for (gsize i = 0; i < nx * repeat; i++)
        flipped->data[nx * repeat * j + i] = slice->data[nx * (ny - 1 - j) + i / repeat];
  }
  return flipped;
}

gboolean
wb_pstm_write_png_slices (const WbField *image,
                          const char    *prefix,
                          gssize         k,
                          GError       **error)
{
  static const char *names[3] = { "crossline", "inline", "time" };
  gsize index[3];

  if (image->ndim != 3)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "PNG slices need an (x, y, t) image");
      return FALSE;
    }
  if (k < 0)
    {
      double best = -1;
      gsize plane = image->shape[0] * image->shape[1];

      k = 0;
      for (gsize t = 0; t < image->shape[2]; t++)
        {
          double e = 0;
          for (gsize s = 0; s < plane; s++)
            e += (double) image->data[t * plane + s] * image->data[t * plane + s];
          if (e > best)
            {
              best = e;
              k = t;
            }
        }
    }
  index[0] = image->shape[0] / 2;
  index[1] = image->shape[1] / 2;
  index[2] = MIN ((gsize) k, image->shape[2] - 1);

  for (guint axis = 0; axis < 3; axis++)
    {
      g_autoptr(WbField) slice = slice_time_down (image, axis, index[axis], error);
      g_autofree char *path = g_strdup_printf ("%s-%s.png", prefix, names[axis]);
      g_autofree char *title = g_strdup_printf ("%s %s %" G_GSIZE_FORMAT,
                                                image->name, names[axis], index[axis]);
      WbRenderOptions opts;

      if (slice == NULL)
        return FALSE;
      wb_render_options_init (&opts);
      opts.colormap = WB_COLORMAP_DIVERGING;
      opts.title = title;
      if (!wb_png_write_field (slice, &opts, path, error))
        return FALSE;
    }
  return TRUE;
}
