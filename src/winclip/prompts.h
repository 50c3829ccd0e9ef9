/*
 * prompts.h - WinCLIP's compositional prompt ensemble (CPE): state words x templates x class.
 *
 * Does: the verbatim state-word and template lists (paper 22 templates with trailing periods,
 * anomalib's 21-entry list with its duplicate), the ablation sets (single, states, templates),
 * user-supplied extra states, and the composition prompt = template.format(state.format(cls))
 * with states in the outer loop: prompt index = state * n_templates + template.
 * Does not: tokenize or encode text (tokenizer.c, clip_text.c), average embeddings (winclip.c).
 * Reference: shared/spec/winclip.md §2 (anomalib prompting.py, mala-lab main.py template_level).
 *
 *     PromptList p = {0};
 *     if (prompts_build(&p, PROMPTS_PAPER22, "bottle", NULL, 0, NULL, 0, &err)) return err.code;
 *     // p.n_normal == 154, p.n_anomalous == 88,
 *     // p.anomalous[1 * 22 + 0] == "a cropped photo of the bottle with flaw."
 *     prompts_free(&p);
 */
#ifndef WINCLIP_PROMPTS_H
#define WINCLIP_PROMPTS_H

#include "util/base.h"

/* The prompt sets (config key `prompts`).
 * - PAPER22:    7 normal + 4 anomalous states x the paper's 22 templates (154 / 88 prompts).
 * - ANOMALIB21: the same states x anomalib's 21-entry list, duplicate kept (147 / 84).
 * - SINGLE:     "a photo of a {}." with states "{}" vs "damaged {}" (1 / 1): CLIP-AC two-class.
 * - STATES:     the 7 / 4 state phrases alone, no template ("bottle", "flawless bottle", ...).
 * - TEMPLATES:  the 22 paper templates with the bare class (normal) vs "damaged {}" (anomalous),
 *               22 / 22: the template ensemble without the state ensemble.
 * - ONE_CLASS:  the single prompt "normal {}" and no anomalous prompt (1 / 0): the CPE ladder's
 *               first step (winclip.md §14); scored by winclip.c as one-class (no softmax).
 * - TWO_CLASS:  "normal {}" vs "anomalous {}", no template (1 / 1): CLIP-AC, the paper's pair.
 * Extra states (see prompts_build) are added to the state list of every set. */
typedef enum {
    PROMPTS_PAPER22 = 0,
    PROMPTS_ANOMALIB21,
    PROMPTS_SINGLE,
    PROMPTS_STATES,
    PROMPTS_TEMPLATES,
    PROMPTS_ONE_CLASS,
    PROMPTS_TWO_CLASS
} PromptSet;

/* Config name of a set ("paper22", ...) and the reverse (-1 if unknown). */
const char *prompts_set_name(PromptSet set);
int prompts_set_parse(const char *name);

/* Verbatim lists (static storage). *count gets the length. */
const char *const *prompts_normal_states(int *count);    /* 7: "{}", "flawless {}", ... */
const char *const *prompts_anomalous_states(int *count); /* 4: "damaged {}", ...          */
const char *const *prompts_paper_templates(int *count);  /* 22, with trailing periods    */
const char *const *prompts_anomalib_templates(int *count); /* 21, duplicate kept         */

typedef struct {
    char **normal;    /* (n_normal) xmalloc'ed strings, index state * n_templates + template */
    int n_normal;
    char **anomalous; /* (n_anomalous) same layout                                         */
    int n_anomalous;
    int n_templates;  /* templates per state (1 for SINGLE, STATES, ONE_CLASS, TWO_CLASS) */
} PromptList;

/* Build every prompt of `set` for class_name (used verbatim: callers map "metal_nut" to
 * "metal nut" first, see winclip_settings_class_name).
 * extra_normal / extra_anomalous (may be NULL when the count is 0): user state phrases appended
 * after the built-in states. A phrase containing "{}" is a state template used as is ("{} with
 * bad soldering"); a phrase without "{}" is an adjective put before the class: "bent" -> "bent {}".
 * A phrase with more than one "{}" or with other braces is ERR_VALUE. ONE_CLASS has no
 * anomalous prompts: extra anomalous states with it are ERR_VALUE.
 * Returns 0, or ERR_VALUE naming the bad phrase. p is overwritten (free it before reuse). */
int prompts_build(PromptList *p, PromptSet set, const char *class_name,
                  const char *const *extra_normal, int n_extra_normal,
                  const char *const *extra_anomalous, int n_extra_anomalous, Error *err);
void prompts_free(PromptList *p); /* safe on a zeroed struct */

/* Replace the single "{}" in pattern by value; xmalloc'ed. Pattern must contain exactly one "{}". */
char *prompts_format(const char *pattern, const char *value);

#endif
