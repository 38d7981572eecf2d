"""One screen per wizard step, plus the review, rotation and dialog screens."""
