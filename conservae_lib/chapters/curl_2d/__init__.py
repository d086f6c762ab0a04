"""Chapter 05, *Curl in 2-D*: Figure 3 (``curl_training``: runs and claims; ``figures``).
"""
