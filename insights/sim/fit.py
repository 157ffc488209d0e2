"""Fit the simulator's generative parameters on the ASSISTments 2009 training split.

``fit_generative_params`` runs the platform's own skill-model fit (``insights.bkt.fit_model``,
BKT with forgetting and learner ability) on ``builder_train.csv`` and summarises what a
simulated world needs: every sufficiently answered skill's five parameters (sampled whole,
so their correlations across skills are kept), the ability weights, the spread of learner
ability, and the spread of item difficulties from a 1PL IRT fit (``insights.ml.irt``) on
each learner's first answer per skill (the builder files carry skill ids, not item ids, so
a skill's first opportunity stands in for an item). The result is the small JSON shipped
beside this module, so tests and seeding never need the dataset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from insights import bkt, skill_eval
from insights.ml.irt import fit_irt

# A skill with fewer answers than this keeps the defaults in the fit: left out of the sample.
MIN_SKILL_ANSWERS = 200


def _summary(values: np.ndarray) -> dict[str, float]:
    return {
        "mean": round(float(values.mean()), 4),
        "sd": round(float(values.std()), 4),
        "p10": round(float(np.quantile(values, 0.1)), 4),
        "median": round(float(np.median(values)), 4),
        "p90": round(float(np.quantile(values, 0.9)), 4),
    }


def fit_generative_params(train_path: Path, *, iterations: int = 40) -> dict:
    responses = skill_eval.read_builder_csv(train_path)
    skill_ids = np.unique(responses.skill)
    data = skill_eval.sequences(responses, skill_ids)
    fitted = bkt.fit_model(data, len(skill_ids), iterations=iterations)
    counts = np.bincount(data.skill, minlength=len(skill_ids))
    kept = [p for p, n in zip(fitted.params, counts, strict=True) if n >= MIN_SKILL_ANSWERS]
    by_name = {name: np.array([getattr(p, name) for p in kept]) for name in bkt.PARAM_NAMES}

    # Learner ability as the skill model reads it (smoothed correct rate, logit vs base).
    learners = np.unique(responses.learner)
    correct_by = np.bincount(responses.learner, weights=responses.correct, minlength=len(learners))
    answered_by = np.bincount(responses.learner, minlength=len(learners))
    window = np.minimum(answered_by, bkt.ABILITY_WINDOW)
    rate = correct_by / np.maximum(answered_by, 1)
    abilities = bkt.ability(rate * window, window, fitted.ability.base_rate)

    # Item difficulty spread: 1PL on learner x skill first answers (NaN = never answered).
    first = np.full((len(learners), len(skill_ids)), np.nan)
    column = np.searchsorted(skill_ids, responses.skill)
    for i in range(len(responses.correct) - 1, -1, -1):  # walk back: the first answer wins
        first[responses.learner[i], column[i]] = float(responses.correct[i])
    answered = (~np.isnan(first)).sum(axis=0) >= 30
    irt = fit_irt(first[:, answered])

    return {
        "source": f"ASSISTments 2009 skill builder, training split ({train_path.name})",
        "responses": len(responses.correct),
        "learners": len(learners),
        "skills_fitted": len(skill_ids),
        "skills_sampled": len(kept),
        "min_skill_answers": MIN_SKILL_ANSWERS,
        "skill_params": [p.as_dict() for p in kept],
        "summary": {name: _summary(values) for name, values in by_name.items()},
        "ability_weights": fitted.ability.as_dict(),
        "learner_ability": _summary(abilities),
        "item_difficulty": {**_summary(irt.difficulty), "items": int(answered.sum())},
    }
