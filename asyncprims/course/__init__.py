"""The course's exercises: checks that run the reader's code and say what is wrong.

``from asyncprims import course`` in a notebook, then ``course.check_print_job(...)``
and friends after an exercise, or ``course.reveal(prediction, answer, why)``
after a predict-then-run cell.  A check runs the reader's code in virtual time
under a trace, prints ``✔`` and what was right, or ``✘ not yet:`` and each
problem in plain words; it never raises for a wrong answer.  Imports neither matplotlib nor Jupyter.
"""

from ._check import Attempt, Verdict, attempt, reveal
from .classic import check_philosophers, check_producer, check_rendezvous
from .resources import check_downloads, check_kitchen, check_phases, check_worker, work
from .signals import check_customers, check_print_job, check_ready_signal

__all__ = [
    "Attempt",
    "Verdict",
    "attempt",
    "check_customers",
    "check_downloads",
    "check_kitchen",
    "check_phases",
    "check_philosophers",
    "check_print_job",
    "check_producer",
    "check_ready_signal",
    "check_rendezvous",
    "check_worker",
    "reveal",
    "work",
]
