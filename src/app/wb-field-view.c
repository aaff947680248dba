#define G_LOG_DOMAIN "wb-field-view"
#include "config.h"

#include <math.h>
#include <string.h>
#include <epoxy/gl.h>
#include <glib/gi18n.h>

#include "wb-error.h"
#include "wb-field-view.h"
#include "wb-render.h"

#ifdef WB_HAVE_INTEROP
#include "wb-interop.h"
#include "wb-interop-frames.h"
#include "wb-interop-gl.h"
#include "wb-interop-vk.h"
#include <epoxy/egl.h>
#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#include <epoxy/glx.h>
#endif
#ifdef GDK_WINDOWING_WAYLAND
#include <gdk/wayland/gdkwayland.h>
#endif
#endif

#define MARGIN 8.0

struct _WbFieldView
{
  GtkGLArea   parent_instance;

  /* Owned */
  WbField    *field;
  WbField    *slice;
  WbField    *material;
  WbField    *material_slice;
  WbColormap  cmap;
  gboolean    fixed_range;
  double      fixed_min, fixed_max;
  double      vmin, vmax;           /* in use */
  guint       slice_axis;
  gssize      slice_index;          /* -1: middle */
  gsize       slice_resolved;
  gboolean    show_outline;
  double      zoom;
  double      pan_x, pan_y;         /* widget pixels */
  double      drag_pan_x, drag_pan_y;
  gboolean    dragged;
  double      pointer_x, pointer_y;
  gboolean    pointer_inside;
  guint64     frames_drawn;

  /* GL objects, valid between realize and unrealize */
  guint       program;
  guint       vao, vbo;
  guint       tex_field, tex_cmap, tex_material;
  int         u_rect, u_range, u_size, u_outline, u_field, u_cmap, u_material;
  gboolean    field_dirty, cmap_dirty, material_dirty;

  /* Display path (docs/interop.md): what the GL context and the backend
   * offer, and why frames take the path they take */
  WbDevice   *device;
  gpointer    interop_caps;         /* WbInteropCaps, with WB_HAVE_INTEROP */
  gboolean    vk_probed;
  char       *display_reason;

  /* Published frames (wb_field_view_set_runner) */
  WbRunner   *runner;               /* weak pointer */
  struct _Publisher *pub;           /* shared with the runner's worker */
  gpointer    uploader;             /* WbFieldRenderer writing tex_field */
  guint       tex_nx, tex_ny;       /* tex_field's size */
  gboolean    published_shown;      /* tex_field holds a frame of the current generation */
  gboolean    drew_published;       /* the last render drew a published frame */
  guint64     published_step;
  gboolean    prefer_host;
  int         frames_path;          /* WbDisplayPath of the frames, -1: none */
  int         frames_sync;          /* WbInteropSync */
  guint64     frames_host_bytes;
  char       *frames_reason;        /* why the frames take their path */
  char       *frames_error;         /* why frames could not be made or published */
  int         gl_api;               /* WbGlApi of GDK's context */
  WbClContext *shared_cl;           /* made against this view's GL context */
  char       *shared_error;         /* why that failed */
  guint       retry_id;             /* a render soon, for a frame still in flight */
  guint64     shown_tag;            /* the tag of the frame shown last */
};

G_DEFINE_FINAL_TYPE (WbFieldView, wb_field_view, GTK_TYPE_GL_AREA)

enum {
  SIGNAL_CELL_CLICKED,
  SIGNAL_HOVER_CHANGED,
  SIGNAL_VIEW_CHANGED,
  SIGNAL_RANGE_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void publisher_set_slice (WbFieldView *self);

/* --- geometry ----------------------------------------------------------- */

/* The axes of the slice: horizontal (a0) and vertical (a1) field axes. */
static void
slice_axes (WbFieldView *self, guint *a0, guint *a1)
{
  if (self->field == NULL || self->field->ndim < 3)
    {
      *a0 = 0;
      *a1 = 1;
      return;
    }
  switch (self->slice_axis)
    {
    case 0: *a0 = 1; *a1 = 2; break;
    case 1: *a0 = 0; *a1 = 2; break;
    default: *a0 = 0; *a1 = 1; break;
    }
}

/* Where the field is drawn, in widget coordinates (y down). */
static gboolean
field_rect (WbFieldView *self, double *x0, double *y0, double *w, double *h)
{
  double W = gtk_widget_get_width (GTK_WIDGET (self));
  double H = gtk_widget_get_height (GTK_WIDGET (self));
  double ex, ey, s;
  guint a0, a1;

  if (self->slice == NULL || W <= 2 * MARGIN || H <= 2 * MARGIN)
    return FALSE;
  slice_axes (self, &a0, &a1);
  ex = self->slice->shape[0] * (self->field->spacing[a0] > 0 ? self->field->spacing[a0] : 1);
  ey = self->slice->shape[1] * (self->field->spacing[a1] > 0 ? self->field->spacing[a1] : 1);
  s = MIN ((W - 2 * MARGIN) / ex, (H - 2 * MARGIN) / ey) * self->zoom;
  *w = ex * s;
  *h = ey * s;
  *x0 = W / 2 + self->pan_x - *w / 2;
  *y0 = H / 2 + self->pan_y - *h / 2;
  return TRUE;
}

gboolean
wb_field_view_pick (WbFieldView *self,
                    double       x,
                    double       y,
                    gsize       *cell,
                    float       *value)
{
  double x0, y0, w, h, u, v;
  gsize ci, cj;
  guint a0, a1;

  g_return_val_if_fail (WB_IS_FIELD_VIEW (self), FALSE);

  if (!field_rect (self, &x0, &y0, &w, &h))
    return FALSE;
  u = (x - x0) / w * self->slice->shape[0];
  v = (y0 + h - y) / h * self->slice->shape[1];
  if (u < 0 || v < 0 || u >= self->slice->shape[0] || v >= self->slice->shape[1])
    return FALSE;
  ci = (gsize) u;
  cj = (gsize) v;
  slice_axes (self, &a0, &a1);
  cell[0] = cell[1] = cell[2] = 0;
  cell[a0] = ci;
  cell[a1] = cj;
  if (self->field->ndim >= 3)
    cell[self->slice_axis] = self->slice_resolved;
  if (value)
    *value = self->field->data[wb_field_index (self->field, cell[0], cell[1], cell[2])];
  return TRUE;
}

gboolean
wb_field_view_cell_to_widget (WbFieldView *self,
                              const gsize *cell,
                              double      *x,
                              double      *y)
{
  double x0, y0, w, h;
  guint a0, a1;

  g_return_val_if_fail (WB_IS_FIELD_VIEW (self), FALSE);

  if (!field_rect (self, &x0, &y0, &w, &h))
    return FALSE;
  if (self->field->ndim >= 3 && cell[self->slice_axis] != self->slice_resolved)
    return FALSE;
  slice_axes (self, &a0, &a1);
  *x = x0 + (cell[a0] + 0.5) / self->slice->shape[0] * w;
  *y = y0 + h - (cell[a1] + 0.5) / self->slice->shape[1] * h;
  return TRUE;
}

static char *
format_value (double v)
{
  if (!isfinite (v))
    return g_strdup (isnan (v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"));
  if (v != 0 && (fabs (v) >= 1e5 || fabs (v) < 1e-3))
    return g_strdup_printf ("%.4e", v);
  return g_strdup_printf ("%.4f", v);
}

char *
wb_field_view_readout (WbFieldView *self,
                       double       x,
                       double       y)
{
  gsize cell[3];
  float value;
  GString *s;
  g_autofree char *vs = NULL;
  static const char *axis_names[] = { "x", "y", "z" };
  static const char *index_names[] = { "i", "j", "k" };
  guint n;

  g_return_val_if_fail (WB_IS_FIELD_VIEW (self), NULL);

  if (!wb_field_view_pick (self, x, y, cell, &value))
    return NULL;
  n = MAX (self->field->ndim, 2);
  s = g_string_new (NULL);
  for (guint a = 0; a < n; a++)
    g_string_append_printf (s, "%s %" G_GSIZE_FORMAT "  ", index_names[a], cell[a]);
  g_string_append (s, "  ");
  for (guint a = 0; a < n; a++)
    g_string_append_printf (s, "%s %.2f mm  ", axis_names[a],
                            1e3 * (self->field->origin[a] + cell[a] * self->field->spacing[a]));
  vs = format_value (value);
  g_string_append_printf (s, "  %s %s %s", self->field->name, vs,
                          self->field->units ? self->field->units : "");
  return g_string_free (s, FALSE);
}

/* --- state -------------------------------------------------------------- */

static void
update_range (WbFieldView *self)
{
  WbRenderOptions opts;
  double vmin = 0, vmax = 1;

  if (self->field != NULL)
    {
      wb_render_options_init (&opts);
      opts.colormap = self->cmap;
      opts.fixed_range = self->fixed_range;
      opts.vmin = self->fixed_min;
      opts.vmax = self->fixed_max;
      wb_render_range (self->field, &opts, &vmin, &vmax);
    }
  if (vmin != self->vmin || vmax != self->vmax)
    {
      self->vmin = vmin;
      self->vmax = vmax;
      g_signal_emit (self, signals[SIGNAL_RANGE_CHANGED], 0);
    }
}

static WbField *
make_slice (WbFieldView *self, WbField *field)
{
  g_autoptr(GError) error = NULL;
  WbField *slice;

  if (field == NULL)
    return NULL;
  if (field->ndim < 3)
    return wb_field_ref (field);
  slice = wb_field_slice (field, self->slice_axis, self->slice_resolved, &error);
  if (slice == NULL)
    g_warning ("slice: %s", error->message);
  return slice;
}

static void
update_slice (WbFieldView *self)
{
  g_clear_pointer (&self->slice, wb_field_unref);
  g_clear_pointer (&self->material_slice, wb_field_unref);
  if (self->field != NULL && self->field->ndim >= 3)
    {
      gsize n = self->field->shape[self->slice_axis];

      if (self->slice_index < 0 || (gsize) self->slice_index >= n)
        self->slice_resolved = n / 2;
      else
        self->slice_resolved = self->slice_index;
    }
  else
    self->slice_resolved = 0;
  self->slice = make_slice (self, self->field);
  if (self->material != NULL && self->field != NULL
      && memcmp (self->material->shape, self->field->shape, sizeof self->field->shape) == 0)
    self->material_slice = make_slice (self, self->material);
  self->field_dirty = TRUE;
  self->material_dirty = TRUE;
  gtk_gl_area_queue_render (GTK_GL_AREA (self));
  g_signal_emit (self, signals[SIGNAL_VIEW_CHANGED], 0);
}

void
wb_field_view_set_field (WbFieldView *self,
                         WbField     *field)
{
  g_return_if_fail (WB_IS_FIELD_VIEW (self));

  if (field != NULL)
    wb_field_ref (field);
  g_clear_pointer (&self->field, wb_field_unref);
  self->field = field;
  update_slice (self);
  update_range (self);
}

WbField *
wb_field_view_get_field (WbFieldView *self)
{
  g_return_val_if_fail (WB_IS_FIELD_VIEW (self), NULL);
  return self->field;
}

WbField *
wb_field_view_get_slice (WbFieldView *self)
{
  g_return_val_if_fail (WB_IS_FIELD_VIEW (self), NULL);
  return self->slice;
}

void
wb_field_view_set_material (WbFieldView *self,
                            WbField     *material)
{
  g_return_if_fail (WB_IS_FIELD_VIEW (self));

  if (material != NULL)
    wb_field_ref (material);
  g_clear_pointer (&self->material, wb_field_unref);
  self->material = material;
  update_slice (self);
}

void
wb_field_view_set_show_outline (WbFieldView *self,
                                gboolean     show)
{
  g_return_if_fail (WB_IS_FIELD_VIEW (self));
  self->show_outline = show;
  gtk_gl_area_queue_render (GTK_GL_AREA (self));
}

void
wb_field_view_set_colormap (WbFieldView *self,
                            WbColormap   cmap)
{
  g_return_if_fail (WB_IS_FIELD_VIEW (self));
  if (self->cmap == cmap)
    return;
  self->cmap = cmap;
  self->cmap_dirty = TRUE;
  update_range (self);
  gtk_gl_area_queue_render (GTK_GL_AREA (self));
}

WbColormap
wb_field_view_get_colormap (WbFieldView *self)
{
  g_return_val_if_fail (WB_IS_FIELD_VIEW (self), WB_COLORMAP_VIRIDIS);
  return self->cmap;
}

void
wb_field_view_set_range (WbFieldView *self,
                         gboolean     fixed,
                         double       vmin,
                         double       vmax)
{
  g_return_if_fail (WB_IS_FIELD_VIEW (self));
  self->fixed_range = fixed;
  self->fixed_min = vmin;
  self->fixed_max = vmax;
  update_range (self);
  gtk_gl_area_queue_render (GTK_GL_AREA (self));
}

void
wb_field_view_get_range (WbFieldView *self,
                         double      *vmin,
                         double      *vmax)
{
  g_return_if_fail (WB_IS_FIELD_VIEW (self));
  *vmin = self->vmin;
  *vmax = self->vmax;
}

void
wb_field_view_set_slice (WbFieldView *self,
                         guint        axis,
                         gssize       index)
{
  g_return_if_fail (WB_IS_FIELD_VIEW (self));
  g_return_if_fail (axis < 3);
  self->slice_axis = axis;
  self->slice_index = index;
  publisher_set_slice (self);
  update_slice (self);
}

guint
wb_field_view_get_slice_axis (WbFieldView *self)
{
  return self->slice_axis;
}

gsize
wb_field_view_get_slice_index (WbFieldView *self)
{
  return self->slice_resolved;
}

void
wb_field_view_reset_view (WbFieldView *self)
{
  self->zoom = 1;
  self->pan_x = self->pan_y = 0;
  gtk_gl_area_queue_render (GTK_GL_AREA (self));
  g_signal_emit (self, signals[SIGNAL_VIEW_CHANGED], 0);
}

void
wb_field_view_zoom (WbFieldView *self,
                    double       factor,
                    double       x,
                    double       y)
{
  double W = gtk_widget_get_width (GTK_WIDGET (self));
  double H = gtk_widget_get_height (GTK_WIDGET (self));
  double zoom = CLAMP (self->zoom * factor, 0.25, 256);
  double cx = W / 2 + self->pan_x, cy = H / 2 + self->pan_y;

  factor = zoom / self->zoom;
  /* Keep the point under the cursor where it is. */
  cx = x - (x - cx) * factor;
  cy = y - (y - cy) * factor;
  self->pan_x = cx - W / 2;
  self->pan_y = cy - H / 2;
  self->zoom = zoom;
  gtk_gl_area_queue_render (GTK_GL_AREA (self));
  g_signal_emit (self, signals[SIGNAL_VIEW_CHANGED], 0);
}

guint64
wb_field_view_get_frames_drawn (WbFieldView *self)
{
  return self->frames_drawn;
}

/* --- GL ----------------------------------------------------------------- */

static guint
compile_shader (GdkGLContext *context,
                guint         type,
                const char   *resource,
                GError      **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *source = NULL;
  const char *header;
  guint shader;
  int status;

  bytes = g_resources_lookup_data (resource, 0, error);
  if (bytes == NULL)
    return 0;
  /* GTK gives a GL 3.2+ core or a GLES 3.0 context; both take this code
   * once the right version line is in front. */
  if (gdk_gl_context_get_use_es (context))
    header = "#version 300 es\nprecision highp float;\nprecision highp int;\nprecision highp sampler2D;\n";
  else
    header = "#version 150\n";
  source = g_strconcat (header, (const char *) g_bytes_get_data (bytes, NULL), NULL);

  shader = glCreateShader (type);
  glShaderSource (shader, 1, (const char **) &source, NULL);
  glCompileShader (shader);
  glGetShaderiv (shader, GL_COMPILE_STATUS, &status);
  if (status == GL_FALSE)
    {
      int len = 0;
      g_autofree char *log = NULL;

      glGetShaderiv (shader, GL_INFO_LOG_LENGTH, &len);
      log = g_malloc0 (len + 1);
      glGetShaderInfoLog (shader, len, NULL, log);
      g_set_error (error, GDK_GL_ERROR, GDK_GL_ERROR_COMPILATION_FAILED,
                   _("Compiling %s failed: %s"), resource, log);
      glDeleteShader (shader);
      return 0;
    }
  return shader;
}

static gboolean
create_program (WbFieldView  *self,
                GdkGLContext *context,
                GError      **error)
{
  guint vs, fs;
  int status;

  vs = compile_shader (context, GL_VERTEX_SHADER, RESOURCE_PREFIX "/shaders/field.vert.glsl", error);
  if (vs == 0)
    return FALSE;
  fs = compile_shader (context, GL_FRAGMENT_SHADER, RESOURCE_PREFIX "/shaders/field.frag.glsl", error);
  if (fs == 0)
    {
      glDeleteShader (vs);
      return FALSE;
    }
  self->program = glCreateProgram ();
  glAttachShader (self->program, vs);
  glAttachShader (self->program, fs);
  glBindAttribLocation (self->program, 0, "position");
  glLinkProgram (self->program);
  glDeleteShader (vs);
  glDeleteShader (fs);
  glGetProgramiv (self->program, GL_LINK_STATUS, &status);
  if (status == GL_FALSE)
    {
      int len = 0;
      g_autofree char *log = NULL;

      glGetProgramiv (self->program, GL_INFO_LOG_LENGTH, &len);
      log = g_malloc0 (len + 1);
      glGetProgramInfoLog (self->program, len, NULL, log);
      g_set_error (error, GDK_GL_ERROR, GDK_GL_ERROR_LINK_FAILED,
                   _("Linking the field shaders failed: %s"), log);
      glDeleteProgram (self->program);
      self->program = 0;
      return FALSE;
    }
  self->u_rect = glGetUniformLocation (self->program, "rect");
  self->u_range = glGetUniformLocation (self->program, "range");
  self->u_size = glGetUniformLocation (self->program, "size");
  self->u_outline = glGetUniformLocation (self->program, "outline");
  self->u_field = glGetUniformLocation (self->program, "field");
  self->u_cmap = glGetUniformLocation (self->program, "colormap");
  self->u_material = glGetUniformLocation (self->program, "material");
  return TRUE;
}

static guint
new_texture (void)
{
  guint tex;

  glGenTextures (1, &tex);
  glBindTexture (GL_TEXTURE_2D, tex);
  /* Nearest: float textures are not filterable on GLES, and each cell
   * must show its own value. */
  glTexParameteri (GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  glTexParameteri (GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  glTexParameteri (GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri (GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  return tex;
}

/* --- display paths and published frames ---------------------------------
 *
 * The runner's worker calls publisher_hook () after the steps of a frame:
 * it copies the displayed field (or slice) on the device into a slot of a
 * WbInteropFrames ring, on the best path the drivers allow, and returns at
 * once.  The frames are made here, on the GL thread, against the sim's
 * OpenCL context, once the hook has told which context, field and slice it
 * needs; render () shows the newest finished slot into tex_field.  Where
 * the hook cannot serve (the reference backend, a field with no device
 * buffer, frames that could not be made), it says so and the runner's host
 * frames are drawn as before.  The Publisher is shared by the view and the
 * worker (reference counted, its own lock), so a hook call never touches a
 * view that is gone.
 */

/* The upper bits of a frame's tag count slice changes, so that a frame of
 * an older slice is never taken for the current one. */
#define TAG_STEP_BITS 40
#define TAG_STEP_MASK ((G_GUINT64_CONSTANT (1) << TAG_STEP_BITS) - 1)

typedef struct
{
  WbClContext *cl;            /* the sim's context, a reference (NULL: none) */
  char        *field;
  guint        ndim;
  gsize        shape[3];
  guint        axis;          /* normal to the slice (2 for 2D fields) */
} FramesKey;

typedef struct _Publisher
{
  gatomicrefcount ref_count;
  GMutex       lock;
  GWeakRef     view;
  /* Set by the view (main thread) */
  gboolean     enabled;       /* realised with a GL context */
  guint        axis;
  gssize       index;         /* -1: the middle */
  guint64      generation;
#ifdef WB_HAVE_INTEROP
  WbInteropFrames *frames;    /* made for @have */
#endif
  FramesKey    have;
  gboolean     have_failed;   /* no frames could be made or published for @have */
  /* Set by the worker */
  FramesKey    want;
  char        *cannot;        /* why the hook cannot serve, or NULL */
  char        *error;         /* a publish that failed */
  gboolean     serving;
  gboolean     skipped;       /* a frame found every slot busy: publish again after a show */
  guint64      last_tag;
  guint        idle_id;
} Publisher;

static void
frames_key_clear (FramesKey *k)
{
  g_clear_pointer (&k->cl, wb_cl_context_unref);
  g_clear_pointer (&k->field, g_free);
  memset (k, 0, sizeof *k);
}

static void
frames_key_copy (FramesKey       *dst,
                 const FramesKey *src)
{
  frames_key_clear (dst);
  *dst = *src;
  dst->cl = src->cl ? wb_cl_context_ref (src->cl) : NULL;
  dst->field = g_strdup (src->field);
}

static gboolean
frames_key_equal (const FramesKey *a,
                  const FramesKey *b)
{
  return a->cl == b->cl && g_strcmp0 (a->field, b->field) == 0 && a->ndim == b->ndim
         && memcmp (a->shape, b->shape, sizeof a->shape) == 0 && a->axis == b->axis;
}

/* The slice a key publishes: width, height. */
static void
frames_key_slice (const FramesKey *k,
                  guint           *nx,
                  guint           *ny)
{
  switch (k->ndim >= 3 ? k->axis : 2)
    {
    case 0: *nx = k->shape[1]; *ny = k->shape[2]; break;
    case 1: *nx = k->shape[0]; *ny = k->shape[2]; break;
    default: *nx = k->shape[0]; *ny = k->shape[1]; break;
    }
}

static Publisher *
publisher_new (WbFieldView *view)
{
  Publisher *pub = g_new0 (Publisher, 1);

  g_atomic_ref_count_init (&pub->ref_count);
  g_mutex_init (&pub->lock);
  g_weak_ref_init (&pub->view, view);
  pub->axis = 2;
  pub->index = -1;
  return pub;
}

static Publisher *
publisher_ref (Publisher *pub)
{
  g_atomic_ref_count_inc (&pub->ref_count);
  return pub;
}

static void
publisher_unref (gpointer data)
{
  Publisher *pub = data;

  if (!g_atomic_ref_count_dec (&pub->ref_count))
    return;
  /* The frames went with the GL context (unrealize). */
#ifdef WB_HAVE_INTEROP
  g_warn_if_fail (pub->frames == NULL);
#endif
  frames_key_clear (&pub->have);
  frames_key_clear (&pub->want);
  g_free (pub->cannot);
  g_free (pub->error);
  g_weak_ref_clear (&pub->view);
  g_mutex_clear (&pub->lock);
  g_free (pub);
}

static void frames_rebuild (WbFieldView *self);
static void update_display_path (WbFieldView *self);

static gboolean
publisher_idle (gpointer data)
{
  Publisher *pub = data;
  g_autoptr(WbFieldView) self = g_weak_ref_get (&pub->view);
  gboolean rebuild;

  g_mutex_lock (&pub->lock);
  pub->idle_id = 0;
  rebuild = pub->want.cl != NULL && pub->cannot == NULL
            && !frames_key_equal (&pub->have, &pub->want);
  g_mutex_unlock (&pub->lock);
  if (self == NULL)
    return G_SOURCE_REMOVE;
  if (rebuild)
    frames_rebuild (self);
  update_display_path (self);
  gtk_gl_area_queue_render (GTK_GL_AREA (self));
  return G_SOURCE_REMOVE;
}

/* Lock held. */
static void
publisher_notify_locked (Publisher *pub)
{
  if (pub->idle_id == 0)
    pub->idle_id = g_idle_add_full (G_PRIORITY_DEFAULT, publisher_idle, publisher_ref (pub), publisher_unref);
}

/* WbRunnerPublishFunc, on the runner's worker. */
static gboolean
publisher_hook (WbSim      *sim,
                const char *field,
                guint64     step,
                gpointer    data)
{
  Publisher *pub = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *cannot = NULL;
  gboolean served = FALSE, notify = FALSE;
  FramesKey key = { .cl = sim->cl, .field = (char *) field, .ndim = sim->ndim };
  cl_mem buf = NULL;

  for (guint a = 0; a < 3; a++)
    key.shape[a] = a < sim->ndim && sim->shape[a] > 0 ? sim->shape[a] : 1;

  g_mutex_lock (&pub->lock);
  key.axis = sim->ndim >= 3 ? pub->axis : 2;
  if (!pub->enabled)
    goto out;
#ifdef WB_HAVE_INTEROP
  if (sim->cl == NULL)
    cannot = g_strdup ("the reference backend computes on the host");
  else if ((buf = wb_sim_field_buffer (sim, field)) == NULL)
    cannot = g_strdup_printf ("the solver has no device buffer holding '%s' (it derives the field "
                              "when reading it back)", field);
  if (cannot != NULL)
    goto out;
  if (!frames_key_equal (&pub->want, &key))
    {
      frames_key_copy (&pub->want, &key);
      notify = TRUE;              /* new frames, made on the GL thread */
    }
  if (pub->frames == NULL || pub->have_failed || !frames_key_equal (&pub->have, &key))
    {
      /* No frames for this yet (or no more, after an unrealize): made on
       * the GL thread, unless they could not be made for it. */
      if (!(pub->have_failed && frames_key_equal (&pub->have, &key)))
        notify = TRUE;
      goto out;
    }
  {
    guint64 tag = (pub->generation << TAG_STEP_BITS) | MIN (step, TAG_STEP_MASK);
    gboolean published = FALSE, ok;

    if (sim->ndim >= 3)
      {
        gsize n = key.shape[key.axis];
        gsize index = pub->index < 0 || (gsize) pub->index >= n ? n / 2 : (gsize) pub->index;

        ok = wb_interop_frames_publish_slice (pub->frames, buf, key.shape, key.axis, index, tag,
                                              &published, &error);
      }
    else
      ok = wb_interop_frames_publish (pub->frames, buf, 0, tag, &published, &error);
    if (!ok)
      {
        g_warning ("publishing a display frame: %s", error->message);
        g_free (pub->error);
        pub->error = g_strdup (error->message);
        pub->have_failed = TRUE;
        notify = TRUE;
      }
    else
      {
        /* A skipped frame (every slot busy) still counts as served: the
         * display has newer ones on their way and needs no host frame. */
        served = TRUE;
        if (published)
          pub->last_tag = tag;
        else
          pub->skipped = TRUE;
        notify = TRUE;
      }
  }
#endif
out:
  if (g_strcmp0 (cannot, pub->cannot) != 0)
    {
      g_free (pub->cannot);
      pub->cannot = g_steal_pointer (&cannot);
      notify = TRUE;
    }
  if (served != pub->serving)
    notify = TRUE;
  pub->serving = served;
  if (notify)
    publisher_notify_locked (pub);
  g_mutex_unlock (&pub->lock);
  return served;
}

/* A new slice: frames of the old one are never drawn for it, and the
 * worker publishes the new one even while the run is paused. */
static void
publisher_set_slice (WbFieldView *self)
{
  g_mutex_lock (&self->pub->lock);
  self->pub->axis = self->slice_axis;
  self->pub->index = self->slice_index;
  self->pub->generation++;
  g_mutex_unlock (&self->pub->lock);
  self->published_shown = FALSE;
  if (self->runner != NULL)
    wb_runner_request_publish (self->runner);
}

static void
runner_weak_notify (gpointer  data,
                    GObject  *where)
{
  WbFieldView *self = data;

  self->runner = NULL;
}

void
wb_field_view_set_runner (WbFieldView *self,
                          WbRunner    *runner)
{
  g_return_if_fail (WB_IS_FIELD_VIEW (self));

  if (self->runner == runner)
    return;
  if (self->runner != NULL)
    {
      wb_runner_set_publish_func (self->runner, NULL, NULL, NULL);
      g_object_weak_unref (G_OBJECT (self->runner), runner_weak_notify, self);
    }
  self->runner = runner;
  if (runner != NULL)
    {
      g_object_weak_ref (G_OBJECT (runner), runner_weak_notify, self);
      wb_runner_set_publish_func (runner, publisher_hook, publisher_ref (self->pub), publisher_unref);
    }
}

#ifdef WB_HAVE_INTEROP
/* What the drivers allow for the backend @device, honouring
 * $WAVEBENCH_DISPLAY_PATH and the display-path preference. */
static void
choose_path (WbFieldView     *self,
             WbDevice        *device,
             const char      *no_gl_sharing,
             WbInteropChoice *choice,
             char           **warning)
{
  WbInteropCaps *caps = self->interop_caps;
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autofree char *pref = NULL;
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  WbDisplayPath forced;
  const char *forced_by = NULL;

  wb_interop_caps_set_device (caps, device);
  caps->prefer_finish = g_strcmp0 (g_getenv ("WAVEBENCH_INTEROP_SYNC"), "finish") == 0;
  if (!self->vk_probed)
    {
      wb_vk_probe (caps);
      self->vk_probed = TRUE;
    }
  schema = source ? g_settings_schema_source_lookup (source, APP_ID, TRUE) : NULL;
  if (schema != NULL && g_settings_schema_has_key (schema, "display-path"))
    {
      settings = g_settings_new (APP_ID);
      pref = g_settings_get_string (settings, "display-path");
    }
  forced = wb_interop_forced_path (g_getenv (WB_INTEROP_ENV), pref, &forced_by, warning);
  wb_interop_choose (caps, forced, forced_by, choice);
  /* @no_gl_sharing: why gl-sharing cannot run after all. */
  if (no_gl_sharing != NULL && choice->path == WB_DISPLAY_PATH_GL_SHARING)
    {
      wb_interop_choice_clear (choice);
      wb_interop_choose_excluding (caps, forced, forced_by, WB_DISPLAY_PATH_GL_SHARING, no_gl_sharing, choice);
    }
}
#endif

/* On the GL thread: frames for what the hook asked for (pub->want). */
static void
frames_rebuild (WbFieldView *self)
{
#ifdef WB_HAVE_INTEROP
  Publisher *pub = self->pub;
  WbInteropCaps *caps = self->interop_caps;
  g_autoptr(GError) error = NULL;
  g_autofree char *warning = NULL, *no_gl_sharing = NULL;
  FramesKey want = { 0 };
  WbInteropChoice choice = { 0 };
  WbInteropFrames *frames = NULL, *old;
  guint nx, ny;

  if (!gtk_widget_get_realized (GTK_WIDGET (self)) || caps == NULL || !caps->gl_available)
    return;
  gtk_gl_area_make_current (GTK_GL_AREA (self));
  if (gtk_gl_area_get_error (GTK_GL_AREA (self)) != NULL)
    return;

  g_mutex_lock (&pub->lock);
  frames_key_copy (&want, &pub->want);
  g_mutex_unlock (&pub->lock);
  if (want.cl == NULL)
    return;
  frames_key_slice (&want, &nx, &ny);

  /* cl_khr_gl_sharing needs the solver's buffers in a context made
   * against this GL context (wb_field_view_make_shared_context ()):
   * without one, the next path, saying why. */
  if (want.cl != self->shared_cl)
    no_gl_sharing = g_strdup_printf ("the simulation's OpenCL context was not made against this view's "
                                     "GL context%s%s%s",
                                     self->shared_error ? ": " : "",
                                     self->shared_error ? self->shared_error : "", "");
  choose_path (self, want.cl->device, no_gl_sharing, &choice, &warning);
  frames = wb_interop_frames_new_with_fallback (want.cl, caps, &choice, (gsize) nx * ny, 3, &error);

  g_mutex_lock (&pub->lock);
  old = pub->frames;
  pub->frames = frames;
  frames_key_copy (&pub->have, &want);
  pub->have_failed = frames == NULL;
  pub->generation++;
  pub->last_tag = 0;
  g_clear_pointer (&pub->error, g_free);
  g_mutex_unlock (&pub->lock);
  /* No hook call uses @old now: it publishes under the lock. */
  g_clear_pointer (&old, wb_interop_frames_free);
  g_clear_pointer (&self->uploader, wb_field_renderer_free);

  g_clear_pointer (&self->frames_reason, g_free);
  g_clear_pointer (&self->frames_error, g_free);
  self->published_shown = FALSE;
  self->shown_tag = 0;
  if (frames != NULL)
    {
      self->frames_path = wb_interop_frames_get_path (frames);
      self->frames_sync = wb_interop_frames_get_sync (frames);
      self->frames_host_bytes = wb_interop_frames_host_bytes_per_frame (frames);
      self->frames_reason = g_steal_pointer (&choice.reason);
      if (warning)
        {
          char *r = g_strconcat (self->frames_reason, "; ", warning, NULL);
          g_free (self->frames_reason);
          self->frames_reason = r;
        }
      /* tex_field at the slice's size; the host upload allocates the same. */
      glBindTexture (GL_TEXTURE_2D, self->tex_field);
      glTexImage2D (GL_TEXTURE_2D, 0, GL_R32F, nx, ny, 0, GL_RED, GL_FLOAT, NULL);
      self->tex_nx = nx;
      self->tex_ny = ny;
      self->field_dirty = TRUE;
      self->uploader = wb_field_renderer_new_for_texture (self->tex_field, nx, ny);
    }
  else
    {
      self->frames_path = -1;
      self->frames_error = g_strdup_printf ("the display frames could not be set up (%s)", error->message);
    }
  g_debug ("frames for %s (%ux%u): %s", want.field, nx, ny,
           frames ? self->frames_reason : self->frames_error);
  wb_interop_choice_clear (&choice);
  frames_key_clear (&want);
  if (self->runner != NULL)
    wb_runner_request_publish (self->runner);
#endif
}

/* Frees the frames (GL context current, before it goes). */
static void
frames_drop (WbFieldView *self)
{
#ifdef WB_HAVE_INTEROP
  Publisher *pub = self->pub;
  WbInteropFrames *old;

  g_mutex_lock (&pub->lock);
  old = pub->frames;
  pub->frames = NULL;
  frames_key_clear (&pub->have);
  pub->have_failed = FALSE;
  pub->enabled = FALSE;
  pub->last_tag = 0;
  g_mutex_unlock (&pub->lock);
  g_clear_pointer (&old, wb_interop_frames_free);
  g_clear_pointer (&self->uploader, wb_field_renderer_free);
  self->frames_path = -1;
  self->published_shown = FALSE;
#endif
}

/* How frames reach the view and why, for the status bar's tooltip and the
 * scripted mode's "display" lines. */
static void
update_display_path (WbFieldView *self)
{
#ifdef WB_HAVE_INTEROP
  WbInteropCaps *caps = self->interop_caps;
  Publisher *pub = self->pub;
  g_autofree char *cannot = NULL, *pub_error = NULL;
  gboolean want_known;
  char *reason = NULL;

  g_mutex_lock (&pub->lock);
  cannot = g_strdup (pub->cannot);
  pub_error = g_strdup (pub->error);
  want_known = pub->want.cl != NULL;
  g_mutex_unlock (&pub->lock);

  if (caps == NULL || !caps->gl_available)
    reason = g_strdup ("host copy through the runner's read-back: the view has no GL context yet");
  else if (self->device == NULL)
    reason = g_strdup ("host copy: no simulation loaded yet");
  else if (cannot != NULL)
    reason = g_strdup_printf ("host copy through the runner's read-back: %s", cannot);
  else if (pub_error != NULL)
    reason = g_strdup_printf ("host copy through the runner's read-back: publishing a frame failed (%s)",
                              pub_error);
  else if (self->frames_error != NULL)
    reason = g_strdup_printf ("host copy through the runner's read-back: %s", self->frames_error);
  else if (self->frames_path >= 0 && self->frames_reason != NULL)
    reason = g_strdup (self->frames_reason);
  else if (wb_device_is_reference (self->device))
    reason = g_strdup ("host copy through the runner's read-back: the reference backend computes on the host");
  else
    {
      /* No frames yet (the sim is loading, or the view is hidden): what
       * the drivers will allow. */
      g_autofree char *warning = NULL;
      WbInteropChoice choice;

      choose_path (self, self->device, NULL, &choice, &warning);
      reason = g_strdup_printf ("%s%s%s%s", choice.reason, want_known ? "" : " (once the simulation runs)",
                                warning ? "; " : "", warning ? warning : "");
      wb_interop_choice_clear (&choice);
    }
  if (g_strcmp0 (reason, self->display_reason) != 0)
    g_debug ("display: %s", reason);
  g_free (self->display_reason);
  self->display_reason = reason;
#else
  g_free (self->display_reason);
  self->display_reason = g_strdup ("host copy through the runner's read-back: built without the interop "
                                   "library (epoxy and Vulkan)");
#endif
}

static void
probe_display (WbFieldView  *self,
               GdkGLContext *context)
{
#ifdef WB_HAVE_INTEROP
  WbGlApi api = WB_GL_API_EGL;

#ifdef GDK_WINDOWING_X11
  {
    GdkDisplay *display = gdk_gl_context_get_display (context);

    /* GDK_DEBUG=gl-glx: an X11 display with no EGL display is GLX. */
    if (GDK_IS_X11_DISPLAY (display) && gdk_x11_display_get_egl_display (display) == NULL)
      api = WB_GL_API_GLX;
  }
#endif
  if (self->interop_caps == NULL)
    {
      self->interop_caps = g_new0 (WbInteropCaps, 1);
      wb_interop_caps_init (self->interop_caps);
    }
  wb_gl_probe (self->interop_caps, api);
  self->gl_api = api;
  g_debug ("display: GL context through %s, renderer %s",
           api == WB_GL_API_GLX ? "GLX" : "EGL", ((WbInteropCaps *) self->interop_caps)->gl_renderer);
  g_mutex_lock (&self->pub->lock);
  self->pub->enabled = ((WbInteropCaps *) self->interop_caps)->gl_available;
  g_mutex_unlock (&self->pub->lock);
#endif
  update_display_path (self);
  /* A sim already running: frames for it now. */
  if (self->runner != NULL)
    wb_runner_request_publish (self->runner);
}

WbClContext *
wb_field_view_make_shared_context (WbFieldView *self,
                                   WbDevice    *device)
{
#ifdef WB_HAVE_INTEROP
  WbInteropCaps *caps = self->interop_caps;
  g_autoptr(GError) error = NULL;
  g_autofree char *warning = NULL;
  WbInteropChoice choice;
  gpointer gl_display = NULL, gl_context = NULL;
  GdkDisplay *display;
  gboolean gl_sharing;

  g_return_val_if_fail (WB_IS_FIELD_VIEW (self), NULL);

  if (device == NULL || wb_device_is_reference (device) || caps == NULL || !caps->gl_available
      || !gtk_widget_get_realized (GTK_WIDGET (self)))
    return NULL;
  choose_path (self, device, NULL, &choice, &warning);
  gl_sharing = choice.path == WB_DISPLAY_PATH_GL_SHARING;
  wb_interop_choice_clear (&choice);
  if (!gl_sharing)
    return NULL;
  if (self->shared_cl != NULL && self->shared_cl->device->device == device->device)
    return wb_cl_context_ref (self->shared_cl);

  g_clear_pointer (&self->shared_cl, wb_cl_context_unref);
  g_clear_pointer (&self->shared_error, g_free);
  gtk_gl_area_make_current (GTK_GL_AREA (self));
  display = gtk_widget_get_display (GTK_WIDGET (self));
  /* The handles cl_khr_gl_sharing names the GL context by: the EGL
   * display and context, or the X display and GLX context. */
  if (self->gl_api == WB_GL_API_EGL)
    {
#ifdef GDK_WINDOWING_X11
      if (GDK_IS_X11_DISPLAY (display))
        gl_display = gdk_x11_display_get_egl_display (display);
#endif
#ifdef GDK_WINDOWING_WAYLAND
      if (GDK_IS_WAYLAND_DISPLAY (display))
        gl_display = gdk_wayland_display_get_egl_display (display);
#endif
      gl_context = eglGetCurrentContext ();
      if (gl_context == EGL_NO_CONTEXT)
        gl_context = NULL;
    }
#ifdef GDK_WINDOWING_X11
  else if (self->gl_api == WB_GL_API_GLX && GDK_IS_X11_DISPLAY (display))
    {
      gl_display = gdk_x11_display_get_xdisplay (display);
      gl_context = glXGetCurrentContext ();
    }
#endif
  self->shared_cl = wb_interop_cl_context_new_gl (device, self->gl_api, gl_display, gl_context, &error);
  if (self->shared_cl == NULL)
    {
      g_message ("no GL-shared OpenCL context: %s", error->message);
      self->shared_error = g_strdup (error->message);
      return NULL;
    }
  return wb_cl_context_ref (self->shared_cl);
#else
  return NULL;
#endif
}

WbFieldViewFrames
wb_field_view_get_frames (WbFieldView *self,
                          guint64     *host_bytes_per_frame)
{
  gboolean serving;

  g_return_val_if_fail (WB_IS_FIELD_VIEW (self), WB_FIELD_VIEW_FRAMES_READ_BACK);

  if (host_bytes_per_frame)
    *host_bytes_per_frame = 0;
  g_mutex_lock (&self->pub->lock);
  serving = self->pub->serving;
  g_mutex_unlock (&self->pub->lock);
  if (!serving || self->frames_path < 0)
    return WB_FIELD_VIEW_FRAMES_READ_BACK;
  if (host_bytes_per_frame)
    *host_bytes_per_frame = self->frames_host_bytes;
#ifdef WB_HAVE_INTEROP
  switch (self->frames_path)
    {
    case WB_DISPLAY_PATH_GL_SHARING: return WB_FIELD_VIEW_FRAMES_GL_SHARING;
    case WB_DISPLAY_PATH_EXTERNAL_MEMORY: return WB_FIELD_VIEW_FRAMES_EXTERNAL_MEMORY;
    default: return WB_FIELD_VIEW_FRAMES_HOST_COPY;
    }
#else
  return WB_FIELD_VIEW_FRAMES_READ_BACK;
#endif
}

const char *
wb_field_view_get_display_sync (WbFieldView *self)
{
  g_return_val_if_fail (WB_IS_FIELD_VIEW (self), NULL);
#ifdef WB_HAVE_INTEROP
  if (self->frames_path >= 0)
    return wb_interop_sync_to_string (self->frames_sync);
#endif
  return NULL;
}

gboolean
wb_field_view_get_published_step (WbFieldView *self,
                                  guint64     *step)
{
  g_return_val_if_fail (WB_IS_FIELD_VIEW (self), FALSE);
  if (step)
    *step = self->published_step;
  return self->drew_published;
}

WbField *
wb_field_view_read_frame (WbFieldView *self,
                          GError     **error)
{
  WbField *frame;

  g_return_val_if_fail (WB_IS_FIELD_VIEW (self), NULL);

  if (self->slice == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND, "the view shows no field");
      return NULL;
    }
  frame = wb_field_new (self->slice->name, self->slice->units, 2, self->slice->shape, self->slice->spacing);
#ifdef WB_HAVE_INTEROP
  if (self->drew_published)
    {
      gboolean ok;

      gtk_gl_area_make_current (GTK_GL_AREA (self));
      g_mutex_lock (&self->pub->lock);
      ok = self->pub->frames != NULL
           && wb_interop_frames_read_shown (self->pub->frames, frame->data, error);
      if (self->pub->frames == NULL)
        g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND, "the display frames are gone");
      g_mutex_unlock (&self->pub->lock);
      if (!ok)
        g_clear_pointer (&frame, wb_field_unref);
      return frame;
    }
#endif
  memcpy (frame->data, self->slice->data, wb_field_n_elements (frame) * sizeof (float));
  return frame;
}

void
wb_field_view_set_prefer_host_frames (WbFieldView *self,
                                      gboolean     prefer)
{
  g_return_if_fail (WB_IS_FIELD_VIEW (self));
  self->prefer_host = prefer;
  gtk_gl_area_queue_render (GTK_GL_AREA (self));
}

void
wb_field_view_set_device (WbFieldView *self,
                          WbDevice    *device)
{
  g_return_if_fail (WB_IS_FIELD_VIEW (self));

  if (device)
    wb_device_ref (device);
  g_clear_pointer (&self->device, wb_device_unref);
  self->device = device;
  self->prefer_host = FALSE;
  update_display_path (self);
}

const char *
wb_field_view_get_display_reason (WbFieldView *self)
{
  g_return_val_if_fail (WB_IS_FIELD_VIEW (self), NULL);

  update_display_path (self);
  return self->display_reason;
}

static void
wb_field_view_realize (GtkWidget *widget)
{
  WbFieldView *self = WB_FIELD_VIEW (widget);
  static const float quad[] = { 0, 0, 1, 0, 0, 1, 1, 1 };
  g_autoptr(GError) error = NULL;
  GdkGLContext *context;

  GTK_WIDGET_CLASS (wb_field_view_parent_class)->realize (widget);

  gtk_gl_area_make_current (GTK_GL_AREA (self));
  if (gtk_gl_area_get_error (GTK_GL_AREA (self)) != NULL)
    return;
  context = gtk_gl_area_get_context (GTK_GL_AREA (self));
  if (!create_program (self, context, &error))
    {
      gtk_gl_area_set_error (GTK_GL_AREA (self), error);
      return;
    }
  glGenVertexArrays (1, &self->vao);
  glBindVertexArray (self->vao);
  glGenBuffers (1, &self->vbo);
  glBindBuffer (GL_ARRAY_BUFFER, self->vbo);
  glBufferData (GL_ARRAY_BUFFER, sizeof quad, quad, GL_STATIC_DRAW);
  glEnableVertexAttribArray (0);
  glVertexAttribPointer (0, 2, GL_FLOAT, GL_FALSE, 0, NULL);
  glBindVertexArray (0);

  self->tex_field = new_texture ();
  self->tex_cmap = new_texture ();
  self->tex_material = new_texture ();
  self->field_dirty = self->cmap_dirty = self->material_dirty = TRUE;
  probe_display (self, context);
}

static void
wb_field_view_unrealize (GtkWidget *widget)
{
  WbFieldView *self = WB_FIELD_VIEW (widget);

  gtk_gl_area_make_current (GTK_GL_AREA (self));
  if (gtk_gl_area_get_error (GTK_GL_AREA (self)) == NULL)
    frames_drop (self);
  g_mutex_lock (&self->pub->lock);
  self->pub->enabled = FALSE;
  g_mutex_unlock (&self->pub->lock);
  /* The shared CL context names this GL context. */
  g_clear_pointer (&self->shared_cl, wb_cl_context_unref);
  if (gtk_gl_area_get_error (GTK_GL_AREA (self)) == NULL)
    {
      if (self->program)
        glDeleteProgram (self->program);
      if (self->vbo)
        glDeleteBuffers (1, &self->vbo);
      if (self->vao)
        glDeleteVertexArrays (1, &self->vao);
      if (self->tex_field)
        {
          glDeleteTextures (1, &self->tex_field);
          glDeleteTextures (1, &self->tex_cmap);
          glDeleteTextures (1, &self->tex_material);
        }
    }
  self->program = self->vao = self->vbo = 0;
  self->tex_field = self->tex_cmap = self->tex_material = 0;

  GTK_WIDGET_CLASS (wb_field_view_parent_class)->unrealize (widget);
}

static void
upload_r32f (guint tex, WbField *slice, guint *nx, guint *ny)
{
  glBindTexture (GL_TEXTURE_2D, tex);
  glPixelStorei (GL_UNPACK_ALIGNMENT, 4);
  if (slice != NULL)
    glTexImage2D (GL_TEXTURE_2D, 0, GL_R32F, slice->shape[0], slice->shape[1], 0,
                  GL_RED, GL_FLOAT, slice->data);
  else
    {
      static const float zero = 0;
      glTexImage2D (GL_TEXTURE_2D, 0, GL_R32F, 1, 1, 0, GL_RED, GL_FLOAT, &zero);
    }
  if (nx)
    *nx = slice ? slice->shape[0] : 1;
  if (ny)
    *ny = slice ? slice->shape[1] : 1;
}

static gboolean
retry_render (gpointer data)
{
  WbFieldView *self = data;

  self->retry_id = 0;
  gtk_gl_area_queue_render (GTK_GL_AREA (self));
  return G_SOURCE_REMOVE;
}

/* Shows the newest published frame into tex_field; TRUE when tex_field
 * holds one of the current slice that may be drawn. */
static gboolean
show_published (WbFieldView *self)
{
#ifdef WB_HAVE_INTEROP
  Publisher *pub = self->pub;
  g_autoptr(GError) error = NULL;
  WbInteropFrames *frames;
  gboolean usable, shown = FALSE, more;
  guint64 tag = 0, generation, last_tag;
  guint nx = 0, ny = 0;

  g_mutex_lock (&pub->lock);
  frames = pub->frames;
  usable = frames != NULL && pub->serving && !pub->have_failed
           && (pub->have.ndim < 3 || pub->have.axis == self->slice_axis);
  if (usable)
    frames_key_slice (&pub->have, &nx, &ny);
  generation = pub->generation;
  last_tag = pub->last_tag;
  g_mutex_unlock (&pub->lock);
  /* Only this thread frees the frames: @frames stays valid here. */
  if (!usable || self->slice == NULL || self->slice->shape[0] != nx || self->slice->shape[1] != ny
      || self->uploader == NULL)
    return FALSE;

  if (self->tex_nx != nx || self->tex_ny != ny)
    {
      glBindTexture (GL_TEXTURE_2D, self->tex_field);
      glTexImage2D (GL_TEXTURE_2D, 0, GL_R32F, nx, ny, 0, GL_RED, GL_FLOAT, NULL);
      self->tex_nx = nx;
      self->tex_ny = ny;
      self->published_shown = FALSE;
      self->field_dirty = TRUE;
    }
  if (!wb_interop_frames_show (frames, self->uploader, G_MAXUINT64, FALSE, &tag, &shown, &error))
    {
      g_warning ("showing a display frame: %s", error->message);
      return FALSE;
    }
  if (shown)
    {
      self->published_shown = tag >> TAG_STEP_BITS == generation;
      self->published_step = tag & TAG_STEP_MASK;
      self->shown_tag = tag;
    }
  /* A newer frame published but still being copied: look again soon. */
  more = last_tag != self->shown_tag;
  if (shown && !self->published_shown)
    self->field_dirty = TRUE;     /* tex_field no longer holds the host frame */
  /* A frame skipped for want of a free slot: this show has freed those
   * whose fences signalled; ask for it again (the final frame of a run
   * must not be lost). */
  g_mutex_lock (&pub->lock);
  if (pub->skipped)
    {
      pub->skipped = FALSE;
      if (self->runner != NULL)
        wb_runner_request_publish (self->runner);
    }
  g_mutex_unlock (&pub->lock);
  if (more && self->retry_id == 0)
    self->retry_id = g_timeout_add_full (G_PRIORITY_DEFAULT, 4, retry_render,
                                         g_object_ref (self), g_object_unref);
  return self->published_shown;
#else
  return FALSE;
#endif
}

static gboolean
wb_field_view_render (GtkGLArea    *area,
                      GdkGLContext *context)
{
  WbFieldView *self = WB_FIELD_VIEW (area);
  int scale = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  double W = gtk_widget_get_width (GTK_WIDGET (self));
  double H = gtk_widget_get_height (GTK_WIDGET (self));
  double x0, y0, w, h;

  glClearColor (0.13, 0.13, 0.15, 1);
  glClear (GL_COLOR_BUFFER_BIT);
  if (self->program == 0 || !field_rect (self, &x0, &y0, &w, &h))
    return TRUE;

  /* Published frames when the view has them; the host frame otherwise
   * (and again when published frames stop). */
  {
    gboolean published = !self->prefer_host && show_published (self);

    if (!published && (self->field_dirty || self->drew_published))
      {
        upload_r32f (self->tex_field, self->slice, &self->tex_nx, &self->tex_ny);
        self->published_shown = FALSE;
        self->field_dirty = FALSE;
      }
    self->drew_published = published;
  }
  if (self->material_dirty)
    {
      upload_r32f (self->tex_material, self->material_slice, NULL, NULL);
      self->material_dirty = FALSE;
    }
  if (self->cmap_dirty)
    {
      const guint8 *table = wb_colormap_table (self->cmap);
      guint8 rgba[256 * 4];

      for (int i = 0; i < 256; i++)
        {
          memcpy (rgba + 4 * i, table + 3 * i, 3);
          rgba[4 * i + 3] = 255;
        }
      glBindTexture (GL_TEXTURE_2D, self->tex_cmap);
      glTexImage2D (GL_TEXTURE_2D, 0, GL_RGBA8, 256, 1, 0, GL_RGBA, GL_UNSIGNED_BYTE, rgba);
      self->cmap_dirty = FALSE;
    }

  glViewport (0, 0, W * scale, H * scale);
  glUseProgram (self->program);
  glUniform4f (self->u_rect,
               2 * x0 / W - 1, 1 - 2 * (y0 + h) / H,
               2 * (x0 + w) / W - 1, 1 - 2 * y0 / H);
  glUniform2f (self->u_range, self->vmin, self->vmax);
  glUniform2i (self->u_size, self->slice->shape[0], self->slice->shape[1]);
  glUniform1i (self->u_outline, self->show_outline && self->material_slice != NULL);
  glActiveTexture (GL_TEXTURE0);
  glBindTexture (GL_TEXTURE_2D, self->tex_field);
  glUniform1i (self->u_field, 0);
  glActiveTexture (GL_TEXTURE1);
  glBindTexture (GL_TEXTURE_2D, self->tex_cmap);
  glUniform1i (self->u_cmap, 1);
  glActiveTexture (GL_TEXTURE2);
  glBindTexture (GL_TEXTURE_2D, self->tex_material);
  glUniform1i (self->u_material, 2);
  glBindVertexArray (self->vao);
  glDrawArrays (GL_TRIANGLE_STRIP, 0, 4);
  glBindVertexArray (0);
  glUseProgram (0);
  glActiveTexture (GL_TEXTURE0);

  self->frames_drawn++;
  return TRUE;
}

static void
wb_field_view_resize (GtkGLArea *area,
                      int        width,
                      int        height)
{
  g_signal_emit (area, signals[SIGNAL_VIEW_CHANGED], 0);
}

/* --- input -------------------------------------------------------------- */

static void
on_motion (GtkEventControllerMotion *motion,
           double                    x,
           double                    y,
           WbFieldView              *self)
{
  g_autofree char *text = wb_field_view_readout (self, x, y);

  self->pointer_x = x;
  self->pointer_y = y;
  self->pointer_inside = TRUE;
  g_signal_emit (self, signals[SIGNAL_HOVER_CHANGED], 0, text);
}

static void
on_leave (GtkEventControllerMotion *motion,
          WbFieldView              *self)
{
  self->pointer_inside = FALSE;
  g_signal_emit (self, signals[SIGNAL_HOVER_CHANGED], 0, NULL);
}

static gboolean
on_scroll (GtkEventControllerScroll *scroll,
           double                    dx,
           double                    dy,
           WbFieldView              *self)
{
  double x = self->pointer_x, y = self->pointer_y;

  /* GTK 4.8 scroll events carry no position: zoom about the last pointer
   * position the motion controller saw, or the centre. */
  if (!self->pointer_inside)
    {
      x = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
      y = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
    }
  wb_field_view_zoom (self, pow (1.15, -dy), x, y);
  return TRUE;
}

static void
on_drag_begin (GtkGestureDrag *drag,
               double          x,
               double          y,
               WbFieldView    *self)
{
  self->drag_pan_x = self->pan_x;
  self->drag_pan_y = self->pan_y;
  self->dragged = FALSE;
}

static void
on_drag_update (GtkGestureDrag *drag,
                double          dx,
                double          dy,
                WbFieldView    *self)
{
  if (!self->dragged && hypot (dx, dy) < 4)
    return;
  self->dragged = TRUE;
  self->pan_x = self->drag_pan_x + dx;
  self->pan_y = self->drag_pan_y + dy;
  gtk_gl_area_queue_render (GTK_GL_AREA (self));
  g_signal_emit (self, signals[SIGNAL_VIEW_CHANGED], 0);
}

static void
on_click_released (GtkGestureClick *click,
                   int              n_press,
                   double           x,
                   double           y,
                   WbFieldView     *self)
{
  gsize cell[3];

  if (self->dragged)
    return;
  if (n_press == 2)
    {
      wb_field_view_reset_view (self);
      return;
    }
  if (wb_field_view_pick (self, x, y, cell, NULL))
    g_signal_emit (self, signals[SIGNAL_CELL_CLICKED], 0,
                   (guint) cell[0], (guint) cell[1], (guint) cell[2]);
}

/* --- GObject ------------------------------------------------------------ */

static void
wb_field_view_dispose (GObject *object)
{
  WbFieldView *self = WB_FIELD_VIEW (object);

  wb_field_view_set_runner (self, NULL);
  g_clear_handle_id (&self->retry_id, g_source_remove);

  G_OBJECT_CLASS (wb_field_view_parent_class)->dispose (object);
}

static void
wb_field_view_finalize (GObject *object)
{
  WbFieldView *self = WB_FIELD_VIEW (object);

  g_clear_pointer (&self->pub, publisher_unref);
  g_clear_pointer (&self->frames_reason, g_free);
  g_clear_pointer (&self->frames_error, g_free);
  g_clear_pointer (&self->shared_error, g_free);
  g_clear_pointer (&self->shared_cl, wb_cl_context_unref);

  g_clear_pointer (&self->field, wb_field_unref);
  g_clear_pointer (&self->slice, wb_field_unref);
  g_clear_pointer (&self->material, wb_field_unref);
  g_clear_pointer (&self->material_slice, wb_field_unref);
  g_clear_pointer (&self->device, wb_device_unref);
  g_clear_pointer (&self->display_reason, g_free);
#ifdef WB_HAVE_INTEROP
  if (self->interop_caps)
    wb_interop_caps_clear (self->interop_caps);
#endif
  g_clear_pointer (&self->interop_caps, g_free);

  G_OBJECT_CLASS (wb_field_view_parent_class)->finalize (object);
}

/* GtkGLArea (4.8) asks for desktop GL only unless told to use GLES; our
 * shaders build for both, so allow both APIs, and the view also
 * works where only GLES exists (GDK_DEBUG=gl-gles, some Wayland setups). */
static GdkGLContext *
wb_field_view_create_context (GtkGLArea *area)
{
  GdkSurface *surface = gtk_native_get_surface (gtk_widget_get_native (GTK_WIDGET (area)));
  g_autoptr(GError) error = NULL;
  GdkGLContext *context;

  context = gdk_surface_create_gl_context (surface, &error);
  if (context == NULL)
    {
      gtk_gl_area_set_error (area, error);
      return NULL;
    }
  gdk_gl_context_set_allowed_apis (context, GDK_GL_API_GL | GDK_GL_API_GLES);
  gdk_gl_context_set_required_version (context, 3, 0);
  if (!gdk_gl_context_realize (context, &error))
    {
      gtk_gl_area_set_error (area, error);
      g_object_unref (context);
      return NULL;
    }
  return context;
}

static void
wb_field_view_class_init (WbFieldViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkGLAreaClass *area_class = GTK_GL_AREA_CLASS (klass);

  object_class->dispose = wb_field_view_dispose;
  object_class->finalize = wb_field_view_finalize;
  widget_class->realize = wb_field_view_realize;
  widget_class->unrealize = wb_field_view_unrealize;
  area_class->render = wb_field_view_render;
  area_class->resize = wb_field_view_resize;
  area_class->create_context = wb_field_view_create_context;

  gtk_widget_class_set_css_name (widget_class, "wbfieldview");

  signals[SIGNAL_CELL_CLICKED] =
    g_signal_new ("cell-clicked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_UINT, G_TYPE_UINT);
  signals[SIGNAL_HOVER_CHANGED] =
    g_signal_new ("hover-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_VIEW_CHANGED] =
    g_signal_new ("view-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_RANGE_CHANGED] =
    g_signal_new ("range-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
wb_field_view_init (WbFieldView *self)
{
  GtkEventController *motion, *scroll;
  GtkGesture *drag, *click;

  self->zoom = 1;
  self->slice_axis = 2;
  self->slice_index = -1;
  self->cmap = WB_COLORMAP_VIRIDIS;
  self->vmin = 0;
  self->vmax = 1;
  self->show_outline = TRUE;
  self->pub = publisher_new (self);
  self->frames_path = -1;

  gtk_gl_area_set_auto_render (GTK_GL_AREA (self), FALSE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_size_request (GTK_WIDGET (self), 200, 200);
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);

  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
  g_signal_connect (click, "released", G_CALLBACK (on_click_released), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
}

GtkWidget *
wb_field_view_new (void)
{
  return g_object_new (WB_TYPE_FIELD_VIEW, NULL);
}
