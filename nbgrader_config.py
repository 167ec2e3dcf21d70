"""nbgrader configuration for instructors.

Each part folder of ``notebooks/`` is one nbgrader assignment; its id is the
folder's name, e.g. ``1_classical_features``.  From the repository root::

    nbgrader generate_assignment 1_classical_features   # -> release/1_classical_features/
    # collect submissions into submitted/<student_id>/1_classical_features/
    nbgrader autograde 1_classical_features             # -> autograded/, scores in gradebook.db
    nbgrader generate_feedback 1_classical_features     # -> feedback/

The working folders and the gradebook are git-ignored.
"""

import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

# The folder of this file, so nbgrader works from here whatever the current folder.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "notebooks"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
# Only the notebooks are part of an assignment (no data copied next to them:
# the notebooks read their data through course_utils).
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__"]

# Exercises are functions; an unanswered one raises NotImplementedError.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# A notebook of the course runs in at most 90 s; give grading some slack.
c.Execute.timeout = 300
c.Execute.kernel_name = "python3"
