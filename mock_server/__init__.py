"""fal-mock's server package (the web app lands in a later change; the video writer is in ``video``)."""
