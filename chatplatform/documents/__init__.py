"""The document pipeline that apps share: bytes in, searchable passages in a vector store out.

`sniffing` decides a file's type from its bytes, `extraction` reads its text within limits,
`chunking` cuts the text into passages, `pipeline` embeds them in batches and stores them, and
`status` is the vocabulary for a document's progress. Nothing here knows an app's models: the
shop knowledge base and the tutor each keep their own and pass a progress callback.
"""
