"""What a learner does with the tutor's material: quiz attempts, summaries, the interaction log
and its xAPI export, item statistics of questions, and the engagement score of a session."""
