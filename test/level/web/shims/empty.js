// An empty module for Node built-ins the level suite page never calls (tape's `fs`, used only to
// write its default stream on Windows; the page reads tape's output through createStream).
export default {};
