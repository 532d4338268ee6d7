"""The interface: the command line (:mod:`.cli`), the policy panel for notebooks
(:mod:`.panel`), text reports and charts of finished runs (:mod:`.report`) and the notebooks run
at full size (:mod:`.notebook_reports`). Everything here reads results; nothing below imports it.
Kept import-free so that ``simcity-quality --help`` starts fast.
"""
