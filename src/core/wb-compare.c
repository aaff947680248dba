#define G_LOG_DOMAIN "wb-compare"
#include "config.h"

#include <math.h>
#include <string.h>

#include "wb-compare.h"
#include "wb-error.h"

static void
compare_field_free (WbCompareField *f)
{
  g_free (f->name);
  g_clear_pointer (&f->error_map, wb_field_unref);
  g_free (f);
}

void
wb_compare_report_free (WbCompareReport *r)
{
  if (r == NULL)
    return;
  g_free (r->device_a);
  g_free (r->device_b);
  g_free (r->first_field);
  g_clear_pointer (&r->fields, g_ptr_array_unref);
  g_free (r);
}

static WbCompareReport *
report_new (double tolerance)
{
  WbCompareReport *r = g_new0 (WbCompareReport, 1);

  r->tolerance = tolerance;
  r->fields = g_ptr_array_new_with_free_func ((GDestroyNotify) compare_field_free);
  return r;
}

WbCompareField *
wb_compare_report_field (WbCompareReport *r,
                         const char      *name)
{
  for (guint i = 0; i < r->fields->len; i++)
    {
      WbCompareField *f = g_ptr_array_index (r->fields, i);
      if (g_str_equal (f->name, name))
        return f;
    }
  return NULL;
}

gboolean
wb_compare_fields (WbCompareReport  *r,
                   const WbField    *a,
                   const WbField    *b,
                   guint64           step,
                   GError          **error)
{
  WbCompareField *f = wb_compare_report_field (r, a->name);
  g_autofree char *map_name = NULL;
  gsize n = wb_field_n_elements (a);
  double scale = 0.0, threshold, sumsq = 0.0;

  for (guint d = 0; d < 3; d++)
    if (a->shape[d] != b->shape[d])
      {
        g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                     "compare: field %s has shape %" G_GSIZE_FORMAT "x%" G_GSIZE_FORMAT "x%"
                     G_GSIZE_FORMAT " on one backend and %" G_GSIZE_FORMAT "x%" G_GSIZE_FORMAT "x%"
                     G_GSIZE_FORMAT " on the other", a->name, a->shape[0], a->shape[1],
                     a->shape[2], b->shape[0], b->shape[1], b->shape[2]);
        return FALSE;
      }
  if (f == NULL)
    {
      f = g_new0 (WbCompareField, 1);
      f->name = g_strdup (a->name);
      g_ptr_array_add (r->fields, f);
    }
  map_name = g_strdup_printf ("|%s difference|", a->name);
  g_clear_pointer (&f->error_map, wb_field_unref);
  f->error_map = wb_field_new (map_name, a->units, a->ndim, a->shape, a->spacing);
  memcpy (f->error_map->origin, a->origin, sizeof a->origin);

  for (gsize c = 0; c < n; c++)
    if (isfinite (b->data[c]))
      scale = MAX (scale, fabs ((double) b->data[c]));
  threshold = scale > 0.0 ? r->tolerance * scale : r->tolerance;

  f->max_abs = 0.0;
  f->max_cell = 0;
  f->n_exceeding = 0;
  f->scale = scale;
  for (gsize c = 0; c < n; c++)
    {
      double va = a->data[c], vb = b->data[c];
      gboolean fa = isfinite (va), fb = isfinite (vb);
      double e;

      /* A non-finite value on one side only is an infinite error; the
       * same non-finite value on both sides (a shared blow-up) is none. */
      if (fa && fb)
        e = fabs (va - vb);
      else if (!fa && !fb && (isnan (va) == isnan (vb)) && (isnan (va) || va == vb))
        e = 0.0;
      else
        e = INFINITY;
      f->error_map->data[c] = (float) e;
      if (isfinite (e))
        sumsq += e * e;
      if (e > f->max_abs)
        {
          f->max_abs = e;
          f->max_cell = c;
        }
      if (e > threshold)
        {
          f->n_exceeding++;
          if (!r->exceeded)
            {
              gsize nx = a->shape[0], ny = a->shape[1];

              r->exceeded = TRUE;
              r->first_step = step;
              r->first_field = g_strdup (a->name);
              r->first_cell = c;
              r->first_ijk[0] = c % nx;
              r->first_ijk[1] = (c / nx) % ny;
              r->first_ijk[2] = c / (nx * ny);
              r->first_a = va;
              r->first_b = vb;
            }
        }
    }
  f->rms = n ? sqrt (sumsq / n) : 0.0;
  if (f->max_abs > f->worst_abs || f->worst_step == 0)
    {
      f->worst_abs = f->max_abs;
      f->worst_step = step;
    }
  return TRUE;
}

WbCompareReport *
wb_compare_run (WbSim              *a,
                WbSim              *b,
                guint64             steps,
                const char * const *fields,
                double              tolerance,
                gboolean            stop_at_first,
                WbCompareStepFunc   hook,
                gpointer            user_data,
                GError            **error)
{
  g_autoptr(WbCompareReport) r = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();

  g_return_val_if_fail (a != NULL && b != NULL, NULL);

  if (!(tolerance >= 0.0))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "compare: the tolerance must be 0 or more, got %g", tolerance);
      return NULL;
    }
  if (g_strcmp0 (a->klass->name, b->klass->name) != 0 || a->ndim != b->ndim ||
      memcmp (a->shape, b->shape, sizeof a->shape) != 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "compare: the two simulations differ in solver or grid (%s and %s)",
                   a->klass->name, b->klass->name);
      return NULL;
    }
  if (fields != NULL)
    {
      for (guint i = 0; fields[i]; i++)
        {
          if (!wb_sim_has_field (a, fields[i]) || !wb_sim_has_field (b, fields[i]))
            {
              g_autofree char *list = g_strjoinv (", ", (char **) a->field_names);
              g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND,
                           "compare: solver %s has no field '%s' (fields: %s)",
                           a->klass->name, fields[i], list);
              return NULL;
            }
          g_ptr_array_add (names, (gpointer) fields[i]);
        }
    }
  else
    for (guint i = 0; a->field_names[i]; i++)
      if (wb_sim_has_field (b, a->field_names[i]))
        g_ptr_array_add (names, (gpointer) a->field_names[i]);

  r = report_new (tolerance);
  r->device_a = g_strdup (a->device->id);
  r->device_b = g_strdup (b->device->id);
  for (guint64 s = 1; s <= steps; s++)
    {
      gboolean was_exceeded = r->exceeded;

      if (!wb_sim_step (a, 1, error) || !wb_sim_step (b, 1, error))
        return NULL;
      if (hook && !hook (a, b, s, user_data, error))
        return NULL;
      for (guint i = 0; i < names->len; i++)
        {
          g_autoptr(WbField) fa = wb_sim_read_field (a, names->pdata[i], error);
          g_autoptr(WbField) fb = fa ? wb_sim_read_field (b, names->pdata[i], error) : NULL;

          if (fb == NULL || !wb_compare_fields (r, fa, fb, s, error))
            return NULL;
        }
      r->steps = s;
      if (stop_at_first && !was_exceeded && r->exceeded)
        break;
    }
  return g_steal_pointer (&r);
}

char *
wb_compare_report_format (const WbCompareReport *r)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "lockstep diff: %s against %s, %" G_GUINT64_FORMAT
                          " steps, tolerance %g of each field's max |value|\n",
                          r->device_a, r->device_b, r->steps, r->tolerance);
  g_string_append_printf (s, "  %-16s %14s %14s %14s %14s\n", "field", "max error", "rms error",
                          "scale", "worst (step)");
  for (guint i = 0; i < r->fields->len; i++)
    {
      const WbCompareField *f = g_ptr_array_index (r->fields, i);
      g_autofree char *worst = g_strdup_printf ("%.4g (%" G_GUINT64_FORMAT ")", f->worst_abs,
                                                f->worst_step);

      g_string_append_printf (s, "  %-16s %14.4g %14.4g %14.4g %14s\n",
                              f->name, f->max_abs, f->rms, f->scale, worst);
    }
  if (r->exceeded)
    g_string_append_printf (s, "  FIRST EXCEEDED at step %" G_GUINT64_FORMAT ", field %s, cell (%"
                            G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT
                            ") [index %" G_GSIZE_FORMAT "]: %.9g against %.9g\n",
                            r->first_step, r->first_field, r->first_ijk[0], r->first_ijk[1],
                            r->first_ijk[2], r->first_cell, r->first_a, r->first_b);
  else
    g_string_append (s, "  within tolerance at every step\n");
  return g_string_free (s, FALSE);
}

static void
add_number (JsonBuilder *b,
            const char  *name,
            double       v)
{
  json_builder_set_member_name (b, name);
  /* JSON has no infinity: a one-sided NaN or Inf is written as null. */
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

void
wb_compare_report_to_json (const WbCompareReport *r,
                           JsonBuilder           *b)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "device_a");
  json_builder_add_string_value (b, r->device_a);
  json_builder_set_member_name (b, "device_b");
  json_builder_add_string_value (b, r->device_b);
  json_builder_set_member_name (b, "steps");
  json_builder_add_int_value (b, (gint64) r->steps);
  add_number (b, "tolerance", r->tolerance);
  json_builder_set_member_name (b, "fields");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->fields->len; i++)
    {
      const WbCompareField *f = g_ptr_array_index (r->fields, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, f->name);
      add_number (b, "max_error", f->max_abs);
      add_number (b, "rms_error", f->rms);
      add_number (b, "scale", f->scale);
      add_number (b, "worst_error", f->worst_abs);
      json_builder_set_member_name (b, "worst_step");
      json_builder_add_int_value (b, (gint64) f->worst_step);
      json_builder_set_member_name (b, "exceeding_cells");
      json_builder_add_int_value (b, (gint64) f->n_exceeding);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "first_exceeded");
  if (!r->exceeded)
    json_builder_add_null_value (b);
  else
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "step");
      json_builder_add_int_value (b, (gint64) r->first_step);
      json_builder_set_member_name (b, "field");
      json_builder_add_string_value (b, r->first_field);
      json_builder_set_member_name (b, "cell");
      json_builder_begin_array (b);
      for (guint d = 0; d < 3; d++)
        json_builder_add_int_value (b, (gint64) r->first_ijk[d]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, (gint64) r->first_cell);
      add_number (b, "a", r->first_a);
      add_number (b, "b", r->first_b);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
}
