// Registers every built-in volume driver; importing this module is what makes them selectable.
import './file/index.js';
