"""A class whose body loops forever: defining it never finishes, so nothing can be graded.

fails all: your definitions did not finish
"""


class Stalls:
    while True:
        pass
