"""Everything of the autograder that runs inside the jail, and nothing else: it holds no reference answer and
no judge, since a submission can read and patch whatever its process holds.

zygote.py    the jail's trusted processes: the zygote, and the relay of each submission
namespaces.py the per-submission Linux namespaces and dropped privileges
extract.py   which code of a submission is graded (its definitions), parsed here, in a limited process
execute.py   what runs in a student's process: the definitions, then one probe
probes/      the probe half of every check
probing.py   what probes use (calls with teaching error messages, watching helpers, plain-data outputs)
known_models.py the small seeded VAE that checks of functions taking a model use (also used by the judges)
wire.py      the one data format that crosses the jail's walls, with its strict decoder

Inside the jail this folder is mounted read-only at /grader/autograder/jail; its modules import each other
relatively and import nothing else of the autograder.
"""
