"""A Keras/NumPy course autograder built on nbgrader, with a judge students cannot fool."""
