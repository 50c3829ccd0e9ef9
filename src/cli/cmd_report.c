/*
 * cmd_report.c - `winclip report EXPERIMENT...`: rebuild summaries and paper tables from
 * results/ without recomputing anything.
 */
#include "cli/cli.h"
#include "harness/report.h"
#include "harness/report_html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const Command cmd_report;

/* summary.tsv / .md and the per-experiment figures of one loaded experiment. */
static int write_experiment(const ReportExperiment *e, const char *root, const PaperTables *paper, Error *err)
{
    if (report_write_summary(e, root, paper, err)) {
        fprintf(stderr, "winclip report: %s\n", err->msg);
        return 1;
    }
    printf("wrote %s/%s/summary.tsv and summary.md (%d units)\n", root, e->name, e->n_units);
    ReportDsK dk[64];
    int n_dk = report_rows_of(e, dk, 64);
    for (int p = 0; p < n_dk; p++) {
        char status[256];
        ReportRunState st = report_row_status(e, dk[p].dataset, dk[p].k, status, sizeof status);
        if (st != REPORT_RUN_COMPLETE) printf("%s: %s K = %d: %s\n", e->name, dk[p].dataset, dk[p].k, status);
    }
    ReportPlotTally pt = {0};
    if (report_write_plots(e, root, paper, &pt, err)) {
        fprintf(stderr, "winclip report: %s\n", err->msg);
        return 1;
    }
    printf("wrote %d figures (ROC / PR panels, AUROC bars) to %s/%s/plots/\n", pt.n_figures, root, e->name);
    if (pt.n_skipped)
        printf("plots skipped: gnuplot (with a PNG terminal) not found; %d figures have only .dat + .gp\n",
               pt.n_skipped);
    if (pt.n_missing)
        printf("note: %d curve files missing (categories left out of the panels), first: %s\n", pt.n_missing,
               pt.first_missing);
    return 0;
}

static int run(int argc, char **argv)
{
    const char *root = "results", *tables = "paper-tables", *paper_dir = "paper-tables", *exp_dir = "experiments";
    const char **names = calloc((size_t)argc, sizeof *names);
    int n_names = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--results") == 0 || strcmp(a, "--tables") == 0 || strcmp(a, "--paper") == 0 ||
            strcmp(a, "--experiments") == 0) {
            if (i + 1 >= argc) {
                free(names);
                return cli_usage_error(&cmd_report, "%s needs a folder", a);
            }
            const char **dst = a[2] == 'r' ? &root : a[2] == 't' ? &tables : a[2] == 'p' ? &paper_dir : &exp_dir;
            *dst = argv[++i];
        } else if (a[0] == '-') {
            free(names);
            return cli_usage_error(&cmd_report, "unknown option '%s' (see winclip help report)", a);
        } else {
            names[n_names++] = a;
        }
    }
    if (n_names == 0) {
        free(names);
        return cli_usage_error(&cmd_report, "name at least one experiment (e.g. E01_zero_shot_mvtec)");
    }
    Error err = {0};
    PaperTables paper;
    if (report_paper_load(&paper, paper_dir, &err)) {
        fprintf(stderr, "winclip report: %s\n", err.msg);
        free(names);
        return 1;
    }
    ReportExperiment *exps = calloc((size_t)n_names, sizeof *exps);
    int n_exps = 0, rc = 0, n_not_run = 0;
    for (int i = 0; i < n_names && !rc; i++) {
        ReportExperiment *e = &exps[n_exps];
        if (report_load_or_plan(e, root, exp_dir, names[i], &err)) {
            fprintf(stderr, "winclip report: %s\n", err.msg);
            rc = 1;
            break;
        }
        n_exps++;
        if (e->n_units == 0) { /* not run: its rows say so; no summary or plots */
            printf("%s: not run (no finished unit under %s/%s): its table rows say so\n", e->name, root, e->name);
            n_not_run++;
        } else {
            rc = write_experiment(e, root, &paper, &err);
        }
    }
    for (int i = 0; i < n_exps && !rc; i++) /* the page to look at (report_html.h); none when not run */
        if (exps[i].n_units == 0) continue;
        else if ((rc = report_write_html(&exps[i], root, &err)) != 0) fprintf(stderr, "winclip report: %s\n", err.msg);
        else printf("wrote %s/%s/index.html (tables, figures, overlays of the extreme images)\n", root, exps[i].name);
    ReportTally tally = {0};
    if (!rc && report_write_paper_tables(exps, n_exps, &paper, tables, &tally, &err)) {
        fprintf(stderr, "winclip report: %s\n", err.msg);
        rc = 1;
    }
    ReportPlotTally ft = {0};
    if (!rc && report_write_figures(exps, n_exps, &paper, tables, &ft, &err)) {
        fprintf(stderr, "winclip report: %s\n", err.msg);
        rc = 1;
    }
    if (!rc) {
        printf("wrote the paper-layout tables (table1..table5 .md/.tex, those with data) to %s/\n", tables);
        printf("wrote %d figures (ablation groups, few-shot vs K) to %s/figures/\n", ft.n_figures, tables);
        if (ft.n_skipped)
            printf("plots skipped: gnuplot (with a PNG terminal) not found; %d figures have only .dat + .gp\n",
                   ft.n_skipped);
        if (n_not_run) printf("%d of %d experiments not run: the tables say so in their rows\n", n_not_run, n_exps);
        printf("within ±1 point of the paper / reproduction: %d of %d compared numbers (complete rows only)\n",
               tally.n_within, tally.n_compared);
        if (tally.misses[0]) printf("outside ±1 point:\n%s", tally.misses);
    }
    for (int i = 0; i < n_exps; i++) report_experiment_free(&exps[i]);
    free(exps);
    report_paper_free(&paper);
    free(names);
    return rc;
}

const Command cmd_report = {
    "report", "rebuild summaries and paper tables from results/ (no recompute)",
    "usage: winclip report [--results DIR] [--tables DIR] [--paper DIR] [--experiments DIR]\n"
    "                      EXPERIMENT...\n"
    "\n"
    "Reads every finished unit (a folder with a `done` marker and metrics.tsv) under\n"
    "RESULTS/EXPERIMENT/<dataset>/<category>/{k0,k<K>_s<seed>}/ and writes:\n"
    "  RESULTS/EXPERIMENT/summary.tsv  per category, category means per (K, seed), and for K > 0\n"
    "                                  mean_over_seeds / std_pop rows (fractions, full precision)\n"
    "  RESULTS/EXPERIMENT/summary.md   the same in percent with the paper's numbers beside ours\n"
    "  RESULTS/EXPERIMENT/index.html   one page (no script, no network): those tables, which\n"
    "                                  categories had masks, the figures, and per category the\n"
    "                                  overlays of the highest-scoring normal and lowest-scoring\n"
    "                                  defective images with their scores\n"
    "  TABLES/table1_zero_shot, table2_few_shot, table3_per_category, table4_ablations,\n"
    "  table5_presets (.md and .tex; only those with data), chosen by each experiment's `table`\n"
    "  (main, ablation, preset, baseline) in RESULTS/EXPERIMENT/experiment.conf; Table 4 has a row\n"
    "  for every paper_ablations.tsv row (found by its `experiment` column) and every named\n"
    "  ablation; Tables 1 / 2 add the baselines of paper_baselines.tsv (CLIP-AC, MaskCLIP\n"
    "  computed by us; SPADE, PaDiM, PatchCore quoted from the paper)\n"
    "  TABLES/figures/ablation_<group>_<metric>, fewshot_<dataset>_<metric> (.dat, .gp, .png)\n"
    "and prints how many numbers are within ±1 point of the paper (complete rows only).\n"
    "\n"
    "An experiment without a finished unit is not an error: its rows say `not run` (metadata\n"
    "from EXPERIMENTS/<name>.conf); a row with some units missing says PARTIAL (the plan is the\n"
    "units' config.resolved: categories x k_shots x seeds). Paper rows whose experiment is not\n"
    "named say `not in this report`; `multi-crop` says `not implemented` (no source defines it).\n"
    "\n"
    "Few-shot numbers: the category mean per seed, then mean ± POPULATION std (ddof = 0) over seeds.\n"
    "\n"
    "Options:\n"
    "  --results DIR   results root (default results)\n"
    "  --tables DIR    where the table files go (default paper-tables)\n"
    "  --paper DIR     where paper_*.tsv are read (default paper-tables)\n"
    "  --experiments DIR  where not-run experiments' .conf files are read (default experiments)\n"
    "\n"
    "Examples:\n"
    "  winclip report E01_zero_shot_mvtec E02_zero_shot_visa\n"
    "  winclip report --results results --tables results/demo/tables demo\n",
    run};
