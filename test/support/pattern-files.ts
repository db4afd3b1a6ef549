/** A pattern file as PATTERNS_DIR holds them, for the tests that load one. */

/** `pros_cons`: every model drafts pros and cons (`draft`, each), one model weighs them (`verdict`, one). */
export const PROS_CONS_YAML = `name: pros_cons
title: Pros and cons
description: Each model lists pros and cons; one model weighs them.
stages:
  - name: draft
    mode: each
    template: |
      List the pros and cons of:
      {{prompt}}
  - name: verdict
    mode: one
    template: |
      Question: {{prompt}}

      Lists:
      {{responses}}
`;
