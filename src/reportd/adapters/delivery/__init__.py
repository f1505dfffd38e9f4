"""Senders: how a parcel reaches each type of destination (``reportd.app.deliveries.Sender``).

One module per type, each importing its library inside (boto3, asyncssh, smtplib, httpx), so
``import reportd`` stays light; ``registry.build_senders`` makes the four from settings.
"""
