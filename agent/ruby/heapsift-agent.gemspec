# frozen_string_literal: true

Gem::Specification.new do |spec|
  spec.name = "heapsift-agent"
  spec.version = "0.1.0"
  spec.summary = "Captures heap dumps of chosen Ruby processes for heapsift"
  spec.description = <<~TEXT
    Runs inside the app: traces allocations, dumps the heap of every worker
    on a Postgres NOTIFY, on a schedule or when memory is high, and stores the dumps in S3 or a
    folder, where the heapsift command line finds them.
  TEXT
  spec.authors = ["heapsift"]
  spec.license = "MIT OR Apache-2.0"
  spec.files = Dir["lib/**/*.rb"] + ["exe/heapsift-agent"]
  spec.bindir = "exe"
  spec.executables = ["heapsift-agent"]
  spec.require_paths = ["lib"]
  spec.required_ruby_version = ">= 2.7"
  # pg (signals) and aws-sdk-s3 (S3 stores) are loaded only when used, so
  # they are not hard dependencies: add the ones you use to your Gemfile.
end
