/* wb-solver-ui.h: what the window needs to know per solver, kept to a
 * table so that a new solver only lists its fields here: which fields the
 * probes record, and which colormap suits each field by default. */
#pragma once

#include <glib.h>
#include "wb-colormap.h"

G_BEGIN_DECLS

/* The fields recorded at probe points for @solver (NULL-terminated);
 * NULL for a solver without a list (the window then records the field
 * shown by default). */
const char * const *wb_solver_probe_fields   (const char *solver);
/* Diverging for signed wave quantities, hot for temperature, grey for
 * material indices, viridis otherwise. */
WbColormap          wb_field_default_colormap (const char *field);

/* The units of a field by its name ("T": "°C"), before any frame tells;
 * "" when unknown. */
const char         *wb_field_default_units    (const char *field);

G_END_DECLS
