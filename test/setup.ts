// The AWS SDK warns on every Node 20 process about a future requirement; it is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
