/*
 * prompts.c - WinCLIP compositional prompt ensemble (see prompts.h).
 *
 * Does: hold the verbatim state and template lists and compose prompt strings.
 * Does not: tokenize, encode or average (tokenizer.c, clip_text.c, winclip.c).
 * Reference: shared/spec/winclip.md §2.1-2.2 (lists copied from the spec text, in its order).
 */
#include "winclip/prompts.h"

#include <stdlib.h>
#include <string.h>

static const char *const NORMAL_STATES[] = {
    "{}", "flawless {}", "perfect {}", "unblemished {}", "{} without flaw", "{} without defect",
    "{} without damage",
};

static const char *const ANOMALOUS_STATES[] = {
    "damaged {}", "{} with flaw", "{} with defect", "{} with damage",
};

static const char *const PAPER_TEMPLATES[] = {
    "a cropped photo of the {}.",
    "a cropped photo of a {}.",
    "a close-up photo of a {}.",
    "a close-up photo of the {}.",
    "a bright photo of a {}.",
    "a bright photo of the {}.",
    "a dark photo of a {}.",
    "a dark photo of the {}.",
    "a jpeg corrupted photo of a {}.",
    "a jpeg corrupted photo of the {}.",
    "a blurry photo of the {}.",
    "a blurry photo of a {}.",
    "a photo of the {}.",
    "a photo of a {}.",
    "a photo of a small {}.",
    "a photo of the small {}.",
    "a photo of a large {}.",
    "a photo of the large {}.",
    "a photo of a {} for visual inspection.",
    "a photo of the {} for visual inspection.",
    "a photo of a {} for anomaly detection.",
    "a photo of the {} for anomaly detection.",
};

/* anomalib prompting.py TEMPLATES: 2 missing ("a cropped photo of a {}.", "a jpeg corrupted
 * photo of a {}.") and "a jpeg corrupted photo of the {}." twice (entries 7 and 8). */
static const char *const ANOMALIB_TEMPLATES[] = {
    "a cropped photo of the {}.",
    "a close-up photo of a {}.",
    "a close-up photo of the {}.",
    "a bright photo of a {}.",
    "a bright photo of the {}.",
    "a dark photo of the {}.",
    "a dark photo of a {}.",
    "a jpeg corrupted photo of the {}.",
    "a jpeg corrupted photo of the {}.",
    "a blurry photo of the {}.",
    "a blurry photo of a {}.",
    "a photo of a {}.",
    "a photo of the {}.",
    "a photo of a small {}.",
    "a photo of the small {}.",
    "a photo of a large {}.",
    "a photo of the large {}.",
    "a photo of the {} for visual inspection.",
    "a photo of a {} for visual inspection.",
    "a photo of the {} for anomaly detection.",
    "a photo of a {} for anomaly detection.",
};

static const char *const SINGLE_TEMPLATE[] = {"a photo of a {}."};
static const char *const BARE_TEMPLATE[] = {"{}"};
static const char *const BARE_STATE[] = {"{}"};
static const char *const DAMAGED_STATE[] = {"damaged {}"};
static const char *const NORMAL_WORD_STATE[] = {"normal {}"};       /* CLIP-AC pair, winclip.md §14 */
static const char *const ANOMALOUS_WORD_STATE[] = {"anomalous {}"};

static const char *const SET_NAMES[] = {"paper22", "anomalib21", "single", "states", "templates",
                                        "one_class", "two_class"};

const char *prompts_set_name(PromptSet set)
{
    return (int)set >= 0 && (size_t)set < ARRAY_LEN(SET_NAMES) ? SET_NAMES[set] : "?";
}

int prompts_set_parse(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(SET_NAMES); i++)
        if (strcmp(name, SET_NAMES[i]) == 0) return (int)i;
    return -1;
}

const char *const *prompts_normal_states(int *count)
{
    *count = (int)ARRAY_LEN(NORMAL_STATES);
    return NORMAL_STATES;
}

const char *const *prompts_anomalous_states(int *count)
{
    *count = (int)ARRAY_LEN(ANOMALOUS_STATES);
    return ANOMALOUS_STATES;
}

const char *const *prompts_paper_templates(int *count)
{
    *count = (int)ARRAY_LEN(PAPER_TEMPLATES);
    return PAPER_TEMPLATES;
}

const char *const *prompts_anomalib_templates(int *count)
{
    *count = (int)ARRAY_LEN(ANOMALIB_TEMPLATES);
    return ANOMALIB_TEMPLATES;
}

char *prompts_format(const char *pattern, const char *value)
{
    const char *at = strstr(pattern, "{}");
    CHECK(at != NULL);
    size_t head = (size_t)(at - pattern), nv = strlen(value), tail = strlen(at + 2);
    char *out = xmalloc(head + nv + tail + 1);
    memcpy(out, pattern, head);
    memcpy(out + head, value, nv);
    memcpy(out + head + nv, at + 2, tail + 1);
    return out;
}

/* A user state phrase -> a state template (xmalloc'ed) or NULL with err set. */
static char *extra_state(const char *phrase, const char *key, Error *err)
{
    const char *at = strstr(phrase, "{}");
    int braces = 0;
    for (const char *c = phrase; *c; c++) braces += (*c == '{' || *c == '}');
    if (phrase[0] == '\0') {
        err_setf(err, ERR_VALUE, "%s: empty state phrase (give words, e.g. \"bent\", or a template "
                 "with one {}, e.g. \"{} with bad soldering\")", key);
        return NULL;
    }
    if (at == NULL && braces == 0) return xasprintf("%s {}", phrase);
    if (at != NULL && braces == 2) return xstrdup(phrase);
    err_setf(err, ERR_VALUE, "%s: state phrase \"%s\" must contain exactly one {} or no braces at "
             "all", key, phrase);
    return NULL;
}

/* Compose states (built-in + extra) x templates into *out. */
static int compose(char ***out, int *n_out, const char *const *states, int n_states,
                   const char *const *extra, int n_extra, const char *extra_key,
                   const char *const *templates, int n_templates, const char *cls, Error *err)
{
    int n = (n_states + n_extra) * n_templates;
    char **list = xcalloc((size_t)(n > 0 ? n : 1), sizeof *list);
    int at = 0;
    for (int s = 0; s < n_states + n_extra; s++) {
        char *own = NULL;
        const char *state = s < n_states ? states[s] : NULL;
        if (state == NULL) {
            own = extra_state(extra[s - n_states], extra_key, err);
            if (own == NULL) {
                for (int i = 0; i < at; i++) free(list[i]);
                free(list);
                return ERR_VALUE;
            }
            state = own;
        }
        char *phrase = prompts_format(state, cls);
        for (int t = 0; t < n_templates; t++) list[at++] = prompts_format(templates[t], phrase);
        free(phrase);
        free(own);
    }
    *out = list;
    *n_out = n;
    return 0;
}

int prompts_build(PromptList *p, PromptSet set, const char *class_name,
                  const char *const *extra_normal, int n_extra_normal,
                  const char *const *extra_anomalous, int n_extra_anomalous, Error *err)
{
    memset(p, 0, sizeof *p);
    const char *const *ns = NORMAL_STATES, *const *as = ANOMALOUS_STATES, *const *tp = PAPER_TEMPLATES;
    int n_ns = (int)ARRAY_LEN(NORMAL_STATES), n_as = (int)ARRAY_LEN(ANOMALOUS_STATES);
    int n_tp = (int)ARRAY_LEN(PAPER_TEMPLATES);
    switch (set) {
    case PROMPTS_PAPER22:
        break;
    case PROMPTS_ANOMALIB21:
        tp = ANOMALIB_TEMPLATES;
        n_tp = (int)ARRAY_LEN(ANOMALIB_TEMPLATES);
        break;
    case PROMPTS_SINGLE:
        ns = BARE_STATE, n_ns = 1, as = DAMAGED_STATE, n_as = 1;
        tp = SINGLE_TEMPLATE, n_tp = 1;
        break;
    case PROMPTS_STATES:
        tp = BARE_TEMPLATE, n_tp = 1;
        break;
    case PROMPTS_TEMPLATES:
        ns = BARE_STATE, n_ns = 1, as = DAMAGED_STATE, n_as = 1;
        break;
    case PROMPTS_ONE_CLASS:
        if (n_extra_anomalous > 0)
            return err_setf(err, ERR_VALUE, "extra_anomalous_states: prompts = one_class has no "
                            "anomalous prompts (found %d extra anomalous states)", n_extra_anomalous);
        ns = NORMAL_WORD_STATE, n_ns = 1, as = NULL, n_as = 0;
        tp = BARE_TEMPLATE, n_tp = 1;
        break;
    case PROMPTS_TWO_CLASS:
        ns = NORMAL_WORD_STATE, n_ns = 1, as = ANOMALOUS_WORD_STATE, n_as = 1;
        tp = BARE_TEMPLATE, n_tp = 1;
        break;
    default:
        return err_setf(err, ERR_VALUE, "prompts: unknown prompt set %d", (int)set);
    }
    if (class_name == NULL || class_name[0] == '\0')
        return err_setf(err, ERR_VALUE, "prompts: empty class name");
    p->n_templates = n_tp;
    int rc = compose(&p->normal, &p->n_normal, ns, n_ns, extra_normal, n_extra_normal,
                     "extra_normal_states", tp, n_tp, class_name, err);
    if (rc == 0)
        rc = compose(&p->anomalous, &p->n_anomalous, as, n_as, extra_anomalous, n_extra_anomalous,
                     "extra_anomalous_states", tp, n_tp, class_name, err);
    if (rc != 0) prompts_free(p);
    return rc;
}

void prompts_free(PromptList *p)
{
    for (int i = 0; i < p->n_normal; i++) free(p->normal[i]);
    for (int i = 0; i < p->n_anomalous; i++) free(p->anomalous[i]);
    free(p->normal);
    free(p->anomalous);
    memset(p, 0, sizeof *p);
}
