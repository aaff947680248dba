/* wb-compare.h: lockstep diff of two backends running the same preset.
 *
 * Both sims advance one step at a time; after each step every compared
 * field is read from both and compared cell by cell.  A cell exceeds the
 * tolerance when |a - b| > tolerance * max(|b|) over that field at that
 * step (or |a - b| > tolerance when b is all zero), and always when a or b
 * is not finite while the other is: the scale follows each field (degrees,
 * pascals, m/s) without per-field settings.  The report gives, per field,
 * the max and RMS error at the last compared step, the worst error over all
 * steps, an error map |a - b|, and the first step, field and cell at which
 * the tolerance was exceeded.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "wb-field.h"
#include "wb-sim.h"

G_BEGIN_DECLS

typedef struct
{
  char     *name;
  double    max_abs;       /* at the last compared step */
  double    rms;
  double    scale;         /* max |b| at the last compared step */
  gsize     max_cell;
  double    worst_abs;     /* over all steps */
  guint64   worst_step;
  guint64   n_exceeding;   /* cells over the tolerance at the last step */
  WbField  *error_map;     /* |a - b| at the last compared step */
} WbCompareField;

typedef struct
{
  char      *device_a;
  char      *device_b;
  guint64    steps;          /* steps compared */
  double     tolerance;
  gboolean   exceeded;
  guint64    first_step;     /* 1-based step after which it was first exceeded */
  char      *first_field;
  gsize      first_cell;
  gsize      first_ijk[3];
  double     first_a;
  double     first_b;
  GPtrArray *fields;         /* WbCompareField* */
} WbCompareReport;

void             wb_compare_report_free   (WbCompareReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbCompareReport, wb_compare_report_free)

/* Called after both sims did step @step and before the comparison; tests
 * inject errors here, the app updates its progress. */
typedef gboolean (*WbCompareStepFunc) (WbSim    *a,
                                       WbSim    *b,
                                       guint64   step,
                                       gpointer  user_data,
                                       GError  **error);

/* Runs @a and @b @steps steps in lockstep.  @fields: NULL-terminated, or
 * NULL for every field both have.  @stop_at_first: stop after the first
 * step that exceeds the tolerance (its maps are then those of that step). */
WbCompareReport *wb_compare_run           (WbSim              *a,
                                           WbSim              *b,
                                           guint64             steps,
                                           const char * const *fields,
                                           double              tolerance,
                                           gboolean            stop_at_first,
                                           WbCompareStepFunc   hook,
                                           gpointer            user_data,
                                           GError            **error);
/* Compares one pair of fields (same shape) at @step into @report. */
gboolean         wb_compare_fields        (WbCompareReport    *report,
                                           const WbField      *a,
                                           const WbField      *b,
                                           guint64             step,
                                           GError            **error);
WbCompareField  *wb_compare_report_field  (WbCompareReport    *report,
                                           const char         *name);
char            *wb_compare_report_format (const WbCompareReport *report);
void             wb_compare_report_to_json (const WbCompareReport *report,
                                            JsonBuilder       *builder);

G_END_DECLS
