/* wb-application.h: the GtkApplication org.wavebench.Wavebench: command
 * line (including the scripted mode), app actions and accelerators. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define WB_TYPE_APPLICATION (wb_application_get_type ())
G_DECLARE_FINAL_TYPE (WbApplication, wb_application, WB, APPLICATION, AdwApplication)

WbApplication *wb_application_new         (void);
/* The status a scripted run ended with (0 when not scripted). */
int            wb_application_exit_status (WbApplication *self);

G_END_DECLS
