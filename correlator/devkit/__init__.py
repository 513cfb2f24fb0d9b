"""For development, demos and tests: a local Kafka-protocol broker, a realistic workload and the demo."""
