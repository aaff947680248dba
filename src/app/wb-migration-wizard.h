/* wb-migration-wizard.h: the Kirchhoff migration (pstm) wizard: data (SEG-Y
 * or synthetic, header summary, survey map), velocity, parameters, devices,
 * and a run page with tiles coloured by state, a live image slice, rates,
 * pause, resume, cancel and exports.  Also a scripted mode for tests. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define WB_TYPE_MIGRATION_WIZARD (wb_migration_wizard_get_type ())
G_DECLARE_FINAL_TYPE (WbMigrationWizard, wb_migration_wizard, WB, MIGRATION_WIZARD, AdwWindow)

/* A scripted migration from the command line (all optional but one input). */
typedef struct
{
  gboolean  active;
  gboolean  synthetic;        /* --migrate-synthetic */
  char     *segy;             /* --migrate-segy PATH */
  GStrv     settings;         /* --wizard-set KEY=VALUE, typed into the pages */
  char     *save_synthetic;   /* the synthetic data as SEG-Y */
  char     *export_image;     /* .npy, .sgy or .png (PNG: PREFIX-inline.png ...) */
  char     *export_fold;
  char     *screenshot;       /* the window on the run page, at the end */
  char     *page_screenshots; /* PREFIX: each page before the run, PREFIX-PAGE.png */
  guint     interrupt_after;  /* > 0: pause, cancel and resume after this many tiles */
  guint     close_after;      /* > 0: close the window after this many tiles */
} WbMigrationScript;

/* Adds the scripted options to @app's command line. */
void               wb_migration_script_add_options (GApplication      *app);
/* Reads them from @dict: returns -1 to go on, or an exit status. */
int                wb_migration_script_parse       (WbMigrationScript *script,
                                                    GVariantDict      *dict);
void               wb_migration_script_clear       (WbMigrationScript *script);

WbMigrationWizard *wb_migration_wizard_new         (GtkApplication    *app,
                                                    GtkWindow         *parent);
/* Runs @script (taking it over) with the devices @backend names ("auto",
 * or ids separated by commas; NULL: auto); the window closes when done and
 * sets *exit_status. */
void               wb_migration_wizard_run_script  (WbMigrationWizard *self,
                                                    WbMigrationScript *script,
                                                    const char        *backend,
                                                    int               *exit_status);

G_END_DECLS
