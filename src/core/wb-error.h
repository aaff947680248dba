/* wb-error.h: error domains shared by the engine, the CLI and the app
 *
 * Every engine call that can fail takes a GError **.  Errors in WB_ERROR
 * describe what the user gave us (bad preset, unstable time step, missing
 * file) or what went wrong at run time; errors in WB_CL_ERROR carry an
 * OpenCL status code, and their message names it (CL_OUT_OF_RESOURCES, not
 * -5).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define WB_ERROR (wb_error_quark ())
#define WB_CL_ERROR (wb_cl_error_quark ())

typedef enum
{
  WB_ERROR_INVALID,        /* bad input: preset, option, file contents (exit 2) */
  WB_ERROR_UNSTABLE,       /* parameters violate a stability bound (exit 2) */
  WB_ERROR_NOT_FOUND,      /* preset, field, device or file not found (exit 2) */
  WB_ERROR_TOO_LARGE,      /* does not fit the device's memory (exit 2) */
  WB_ERROR_IO,             /* reading or writing a file failed (exit 1) */
  WB_ERROR_BUILD,          /* kernel program failed to build (exit 1) */
  WB_ERROR_DEVICE,         /* device failure during a run (exit 1) */
  WB_ERROR_DIVERGED,       /* a run blew up: NaN/Inf or runaway values (exit 1) */
  WB_ERROR_CANCELLED,      /* the user cancelled (exit 1) */
} WbErrorCode;

GQuark      wb_error_quark     (void);
GQuark      wb_cl_error_quark  (void);

/* Name of an OpenCL status code, e.g. "CL_OUT_OF_RESOURCES". */
const char *wb_cl_error_name   (int status);

/* The process exit status a front end should use for @error:
 * 2 for bad input, 1 for run-time failures. */
int         wb_error_exit_code (const GError *error);

G_END_DECLS
