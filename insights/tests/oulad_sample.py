"""A tiny OULAD-format export, written as the real files are (quoted CSV; unquoted submissions).

Per run (AAA 2013J and AAA 2014J), 30 learners in three kinds, plus two edge cases:
- steady (i % 3 == 0): registered 30 days early, submits everything on time, passes;
- drifting (i % 3 == 1): submits nothing, withdraws on day 80 (after the day-56 cutoff),
  yet submits the day-40 quiz on day 60, after the cutoff;
- struggling (i % 3 == 2): submits the day-20 assignment late (day 25, score 35), fails;
- one learner who withdrew on day 30 (already gone at day 56: never scored);
- one learner who registered on day 70 (not yet there at day 56: never scored).
"""

from __future__ import annotations

import csv
from pathlib import Path

RUNS = ("2013J", "2014J")
# (id, type, due day or "", weight) per run; ids are unique across runs.
ASSESSMENTS = {
    "2013J": [(101, "TMA", "20", "20"), (102, "CMA", "40", "10"), (103, "TMA", "100", "30"),
              (104, "Exam", "", "100")],
    "2014J": [(201, "TMA", "20", "20"), (202, "CMA", "40", "10"), (203, "TMA", "100", "30"),
              (204, "Exam", "", "100")],
}  # fmt: skip
LEARNERS_PER_RUN = 30


def _student(run: str, i: int) -> int:
    return (1 if run == "2013J" else 2) * 10000 + i


def write_oulad_sample(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    info, registrations, submissions = [], [], []
    for run in RUNS:
        tma1, cma, tma2, _exam = (a[0] for a in ASSESSMENTS[run])
        for i in range(LEARNERS_PER_RUN):
            sid = _student(run, i)
            kind = i % 3
            result = ("Pass", "Withdrawn", "Fail")[kind]
            registrations.append([sid, "-30" if kind == 0 else "-10", "80" if kind == 1 else ""])
            info.append([sid, result, "1" if kind == 2 else "0"])
            if kind == 0:
                submissions += [
                    [sid, tma1, 18, 0, 80],
                    [sid, cma, 39, 0, 90],
                    [sid, tma2, 99, 0, 75],
                ]
            elif kind == 1:
                submissions.append([sid, cma, 60, 0, 50])
            else:
                submissions.append([sid, tma1, 25, 0, 35])
        early, late = _student(run, 98), _student(run, 99)
        registrations += [[early, "-5", "30"], [late, "70", ""]]
        info += [[early, "Withdrawn", "0"], [late, "Pass", "0"]]
        submissions.append([late, tma2, 99, 0, "?"])
        for row in registrations[-(LEARNERS_PER_RUN + 2) :]:
            row.insert(0, run)
        for row in info[-(LEARNERS_PER_RUN + 2) :]:
            row.insert(0, run)

    def quoted(name: str, header: list[str], rows: list[list]) -> None:
        with (directory / name).open("w", newline="") as fh:
            writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
            writer.writerow(header)
            writer.writerows(rows)

    quoted(
        "courses.csv",
        ["code_module", "code_presentation", "module_presentation_length"],
        [["AAA", run, 260] for run in RUNS],
    )
    quoted(
        "assessments.csv",
        ["code_module", "code_presentation", "id_assessment", "assessment_type", "date", "weight"],
        [["AAA", run, *a] for run in RUNS for a in ASSESSMENTS[run]],
    )
    quoted(
        "studentRegistration.csv",
        ["code_module", "code_presentation", "id_student", "date_registration",
         "date_unregistration"],
        [["AAA", run, sid, reg, unreg] for run, sid, reg, unreg in registrations],
    )  # fmt: skip
    quoted(
        "studentInfo.csv",
        ["code_module", "code_presentation", "id_student", "gender", "region",
         "highest_education", "imd_band", "age_band", "num_of_prev_attempts", "studied_credits",
         "disability", "final_result"],
        [["AAA", run, sid, "F", "Scotland", "A Level or Equivalent", "20-30%", "0-35", prev, "60",
          "N", result] for run, sid, result, prev in info],
    )  # fmt: skip
    with (directory / "studentAssessment.csv").open("w", newline="") as fh:
        fh.write("id_student,id_assessment,date_submitted,is_banked,score\n")
        for row in submissions:
            fh.write(",".join(str(v) for v in row) + "\n")
    return directory
