#define G_LOG_DOMAIN "wb-field"
#include "config.h"

#include <math.h>
#include <string.h>

#include "wb-error.h"
#include "wb-field.h"

static WbField *
field_alloc (const char   *name,
             const char   *units,
             guint         ndim,
             const gsize  *shape,
             const double *spacing,
             gsize        *n_out)
{
  WbField *f;
  gsize n = 1;

  f = g_new0 (WbField, 1);
  g_atomic_ref_count_init (&f->ref_count);
  f->name = g_strdup (name);
  f->units = g_strdup (units ? units : "");
  f->ndim = ndim;
  for (guint d = 0; d < 3; d++)
    {
      f->shape[d] = d < ndim ? shape[d] : 1;
      f->spacing[d] = (spacing && d < ndim) ? spacing[d] : 1.0;
      n *= f->shape[d];
    }
  *n_out = n;
  return f;
}

WbField *
wb_field_new (const char   *name,
              const char   *units,
              guint         ndim,
              const gsize  *shape,
              const double *spacing)
{
  WbField *f;
  gsize n;

  g_return_val_if_fail (ndim >= 1 && ndim <= 3, NULL);
  g_return_val_if_fail (shape != NULL, NULL);

  f = field_alloc (name, units, ndim, shape, spacing, &n);
  f->data = g_new0 (float, n);
  return f;
}

WbField *
wb_field_new_wrapped (const char    *name,
                      const char    *units,
                      guint          ndim,
                      const gsize   *shape,
                      const double  *spacing,
                      float         *data,
                      GDestroyNotify data_free,
                      gpointer       data_owner)
{
  WbField *f;
  gsize n;

  g_return_val_if_fail (ndim >= 1 && ndim <= 3, NULL);
  g_return_val_if_fail (shape != NULL && data != NULL && data_free != NULL, NULL);

  f = field_alloc (name, units, ndim, shape, spacing, &n);
  f->data = data;
  f->data_free = data_free;
  f->data_owner = data_owner;
  return f;
}

WbField *
wb_field_ref (WbField *field)
{
  g_return_val_if_fail (field != NULL, NULL);
  g_atomic_ref_count_inc (&field->ref_count);
  return field;
}

void
wb_field_unref (WbField *field)
{
  if (field == NULL)
    return;
  if (g_atomic_ref_count_dec (&field->ref_count))
    {
      g_free (field->name);
      g_free (field->units);
      if (field->data_free)
        field->data_free (field->data_owner);
      else
        g_free (field->data);
      g_free (field);
    }
}

gsize
wb_field_n_elements (const WbField *field)
{
  return field->shape[0] * field->shape[1] * field->shape[2];
}

WbField *
wb_field_copy (const WbField *field)
{
  WbField *f = wb_field_new (field->name, field->units, field->ndim,
                             field->shape, field->spacing);
  memcpy (f->origin, field->origin, sizeof f->origin);
  memcpy (f->data, field->data, wb_field_n_elements (field) * sizeof (float));
  return f;
}

gsize
wb_field_range (const WbField *field,
                float         *min,
                float         *max)
{
  gsize n = wb_field_n_elements (field);
  gsize bad = 0;
  float lo = INFINITY, hi = -INFINITY;

  for (gsize i = 0; i < n; i++)
    {
      float v = field->data[i];
      if (!isfinite (v))
        {
          bad++;
          continue;
        }
      if (v < lo)
        lo = v;
      if (v > hi)
        hi = v;
    }
  if (lo > hi)
    lo = hi = 0.0f;
  if (min)
    *min = lo;
  if (max)
    *max = hi;
  return bad;
}

WbField *
wb_field_slice (const WbField *field,
                guint          axis,
                gsize          index,
                GError       **error)
{
  gsize shape[2];
  double spacing[2];
  guint a0, a1;
  WbField *s;

  if (field->ndim != 3 || axis > 2)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "field '%s': a slice needs a 3D field and an axis x, y or z",
                   field->name);
      return NULL;
    }
  if (index >= field->shape[axis])
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "field '%s': slice index %" G_GSIZE_FORMAT " is outside 0..%" G_GSIZE_FORMAT
                   " along %c", field->name, index, field->shape[axis] - 1, "xyz"[axis]);
      return NULL;
    }
  a0 = axis == 0 ? 1 : 0;
  a1 = axis == 2 ? 1 : 2;
  shape[0] = field->shape[a0];
  shape[1] = field->shape[a1];
  spacing[0] = field->spacing[a0];
  spacing[1] = field->spacing[a1];
  s = wb_field_new (field->name, field->units, 2, shape, spacing);
  s->origin[0] = field->origin[a0];
  s->origin[1] = field->origin[a1];
  for (gsize v = 0; v < shape[1]; v++)
    for (gsize u = 0; u < shape[0]; u++)
      {
        gsize ijk[3];
        ijk[axis] = index;
        ijk[a0] = u;
        ijk[a1] = v;
        s->data[u + shape[0] * v] = field->data[wb_field_index (field, ijk[0], ijk[1], ijk[2])];
      }
  return s;
}
