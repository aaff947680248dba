/* wb-field.h: a named 1D/2D/3D float32 array on the host, with spacing and
 * units: what renderers, exporters and comparers see.
 *
 * Layout: x fastest.  Element (i, j, k) is data[i + nx * (j + ny * k)],
 * with shape[0] = nx, shape[1] = ny, shape[2] = nz (1 for unused axes).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _WbField WbField;

struct _WbField
{
  gatomicrefcount ref_count;
  char   *name;        /* "T", "Sigma_xy", "image" */
  char   *units;       /* "degC", "Pa", "" */
  guint   ndim;        /* 1, 2 or 3 */
  gsize   shape[3];    /* nx, ny, nz; 1 beyond ndim */
  double  spacing[3];  /* metres (or seconds for a time axis) */
  double  origin[3];
  float  *data;        /* n_elements floats, owned (or see wb_field_new_wrapped) */
  GDestroyNotify data_free;  /* NULL: data is g_free'd */
  gpointer       data_owner;
};

WbField  *wb_field_new        (const char   *name,
                               const char   *units,
                               guint         ndim,
                               const gsize  *shape,
                               const double *spacing);
/* A field over memory it does not allocate (a read-back's pinned host
 * buffer): @data_free (@data_owner) is called instead of g_free (@data)
 * when the last reference goes, from whichever thread drops it. */
WbField  *wb_field_new_wrapped (const char    *name,
                                const char    *units,
                                guint          ndim,
                                const gsize   *shape,
                                const double  *spacing,
                                float         *data,
                                GDestroyNotify data_free,
                                gpointer       data_owner);
WbField  *wb_field_ref        (WbField      *field);
void      wb_field_unref      (WbField      *field);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbField, wb_field_unref)

WbField  *wb_field_copy       (const WbField *field);
gsize     wb_field_n_elements (const WbField *field);

static inline gsize
wb_field_index (const WbField *f, gsize i, gsize j, gsize k)
{
  return i + f->shape[0] * (j + f->shape[1] * k);
}

/* Min and max over finite values; returns the count of non-finite ones. */
gsize     wb_field_range      (const WbField *field,
                               float        *min,
                               float        *max);

/* A 2D slice of a 3D field normal to @axis (0 = x, 1 = y, 2 = z) at
 * @index.  The slice's axes are the two remaining ones in order. */
WbField  *wb_field_slice      (const WbField *field,
                               guint         axis,
                               gsize         index,
                               GError      **error);

G_END_DECLS
