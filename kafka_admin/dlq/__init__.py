"""Dead letter queues: which topics are DLQs, what their headers say of origin and failure, where records go back."""
